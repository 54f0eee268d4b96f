using Disagg.Control.Messages;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;
using Disagg.Toolstack.Xenstore;
using OkReply = Disagg.Control.Messages.OkReply;

namespace Disagg.Toolstack.Daemon.Guests;

/// <summary>
/// What xl changes on a running domain without touching its life cycle: memory target and
/// maxmem (mem-set, mem-max), vCPUs online (vcpu-set), pinning (vcpu-pin, vcpu-list) and the
/// credit scheduler's weight and cap (sched-credit).
/// </summary>
internal sealed class GuestTuning(GuestRegistry guests, KernelLink kernel, XenstoreDomains xenstore)
{
    public async Task<string> SetMemoryAsync(MemoryRequest m, CancellationToken cancel)
    {
        var (id, guest) = await guests.ResolveAsync(m.Domain, cancel).ConfigureAwait(false);
        await guests.CallAsync<OkReply>(guest?.Name ?? m.Domain, new SetMemory(id, m.TargetMiB * 1024, m.MaxMiB * 1024), cancel).ConfigureAwait(false);
        if (m.TargetMiB is { } target)
        {
            await xenstore.SetTargetAsync(id, guest?.Name ?? m.Domain, target * 1024L, cancel).ConfigureAwait(false);
        }

        return m.TargetMiB is { } t ? $"domain {id}: memory target {t} MiB" : $"domain {id}: maxmem {m.MaxMiB} MiB";
    }

    public async Task<string> SetVcpusAsync(VcpuSetRequest v, CancellationToken cancel)
    {
        var (id, guest) = await guests.ResolveAsync(v.Domain, cancel).ConfigureAwait(false);
        await guests.CallAsync<OkReply>(guest?.Name ?? v.Domain, new SetVcpusOnline(id, v.Count), cancel).ConfigureAwait(false);
        return $"domain {id}: {v.Count} vCPUs online";
    }

    public async Task<string> PinAsync(VcpuPinRequest p, CancellationToken cancel)
    {
        var (id, guest) = await guests.ResolveAsync(p.Domain, cancel).ConfigureAwait(false);
        var name = guest?.Name ?? p.Domain;
        CpuSet set;
        try
        {
            set = CpuSet.Parse(p.Cpus, new ConfigPosition("vcpu-pin", 1, 1));
        }
        catch (ConfigException e)
        {
            throw new DomainOperationException(name, e.Reason);
        }

        ulong mask = 0;
        foreach (var cpu in set.Resolve(kernel.Pcpus))
        {
            mask |= 1UL << cpu;
        }

        await guests.CallAsync<OkReply>(name, new SetVcpuAffinity(id, p.Vcpu, mask), cancel).ConfigureAwait(false);
        return $"domain {id}: vcpu {(p.Vcpu < 0 ? "all" : p.Vcpu)} pinned to {set}";
    }

    public async Task<VcpuListReply> ListVcpusAsync(string? domain, CancellationToken cancel)
    {
        var id = -1;
        if (domain is not null)
        {
            (id, _) = await guests.ResolveAsync(domain, cancel).ConfigureAwait(false);
        }

        var names = (await kernel.Client.CallAsync<DomainList>(new ListDomains(), cancel).ConfigureAwait(false)).Domains.ToDictionary(d => d.DomainId, d => d.Name);
        var list = await guests.CallAsync<VcpuList>(domain ?? "*", new ListVcpus(id), cancel).ConfigureAwait(false);
        return new VcpuListReply([.. list.Vcpus.Select(v => new VcpuRow(
            names.GetValueOrDefault(v.DomainId, "?"), v.DomainId, v.Vcpu, v.Pcpu, v.State, v.CpuTimeNs, MaskText(v.Affinity), v.Online))]);
    }

    public async Task<SchedCreditReply> SchedCreditAsync(SchedCreditRequest s, CancellationToken cancel)
    {
        if (s.Domain is not null)
        {
            await guests.EnterAsync(cancel).ConfigureAwait(false);
            try
            {
                var (id, guest) = await guests.ResolveAsync(s.Domain, cancel).ConfigureAwait(false);
                if (guest is null)
                {
                    throw new DomainOperationException(s.Domain, "was not created by this toolstack");
                }

                if (s.Weight is not null || s.Cap is not null)
                {
                    var weight = s.Weight ?? guest.Weight;
                    var cap = s.Cap ?? guest.Cap;
                    await guests.CallAsync<OkReply>(guest.Name, new SetSchedCredit(id, weight, cap), cancel).ConfigureAwait(false);
                    guest.Weight = weight;
                    guest.Cap = cap;
                }
            }
            finally
            {
                guests.Leave();
            }
        }

        return new SchedCreditReply([.. guests.Snapshot()
            .Where(g => s.Domain is null || g.Name == s.Domain || g.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == s.Domain)
            .Select(g => new SchedCreditRow(g.Name, g.Id, g.Weight, g.Cap))]);
    }

    private static string MaskText(ulong mask) => mask == ulong.MaxValue ? "all" : string.Join(',', Enumerable.Range(0, 64).Where(i => (mask & (1UL << i)) != 0));
}
