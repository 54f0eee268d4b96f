using System.Diagnostics;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Protocol;
using OkReply = Disagg.Control.Messages.OkReply;

namespace Disagg.Toolstack.Daemon;

/// <summary>
/// The guests of this host and every change to them. Changes to the domain table (create,
/// destroy, restart, shutdown) are serialised by one gate, so two CLIs at once, or a CLI and a
/// lifecycle event, never interleave halfway; reads (list) go straight to the kernel.
/// </summary>
internal sealed class GuestDomains(KernelClient kernel, ConsoleHub consoles, Xenstore.XenstoreDomains xenstore, DaemonLog log, int hostPcpus, Func<int> xenstoreDomain)
{
    /// <summary>More automatic restarts than this within RestartWindowMs and the guest is destroyed, not restarted again.</summary>
    private const int MaxRestartsInWindow = 10;
    private const long RestartWindowMs = 10_000;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<int, Guest> _byId = [];
    private bool _goingDown;

    public int Count
    {
        get
        {
            lock (_byId)
            {
                return _byId.Count;
            }
        }
    }

    public async Task<CreatedReply> CreateAsync(string configPath, bool paused, CancellationToken cancel)
    {
        IReadOnlyList<string> warnings;
        DomainConfig config;
        try
        {
            config = DomainConfigReader.Read(configPath, out warnings);
        }
        catch (ConfigException e)
        {
            throw new ToolstackException(e.Message);
        }
        catch (IOException e)
        {
            throw new ToolstackException($"cannot read config {configPath}: {e.Message}");
        }

        await _gate.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            if (_goingDown)
            {
                throw new DomainOperationException(config.Name, "the host is going down");
            }

            var guest = new Guest { Name = config.Name, Config = config, ConfigPath = configPath, Weight = config.Weight, Cap = config.Cap, Uuid = config.Uuid ?? Guid.NewGuid().ToString() };
            await BootAsync(guest, paused, cancel).ConfigureAwait(false);
            log.DomainCreated(guest.Id, guest.Name, configPath);
            return new CreatedReply(guest.Id, guest.Name, warnings);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<string> ActAsync(string domain, DomainAction action, bool wait, CancellationToken cancel)
    {
        Guest? guest;
        int id;
        Task settled;
        await _gate.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            (id, guest) = await ResolveAsync(domain, cancel).ConfigureAwait(false);
            settled = guest?.Settled.Task ?? Task.CompletedTask;
            var name = guest?.Name ?? domain;
            var command = action switch
            {
                DomainAction.Pause => new DomainCommand(id, DomainOperation.Pause),
                DomainAction.Unpause => new DomainCommand(id, DomainOperation.Unpause),
                DomainAction.Shutdown => new DomainCommand(id, DomainOperation.Shutdown, (int)XenShutdownReason.Poweroff),
                DomainAction.Reboot => new DomainCommand(id, DomainOperation.Shutdown, (int)XenShutdownReason.Reboot),
                _ => new DomainCommand(id, DomainOperation.Destroy),
            };
            if (action == DomainAction.Destroy && guest is not null)
            {
                await consoles.DrainOnceAsync(cancel).ConfigureAwait(false);
                await ForgetAsync(guest, "destroyed").ConfigureAwait(false);
            }

            await CallAsync<OkReply>(name, command, cancel).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        if (wait && action is DomainAction.Shutdown or DomainAction.Reboot)
        {
            try
            {
                await settled.WaitAsync(TimeSpan.FromSeconds(60), cancel).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new DomainOperationException(guest?.Name ?? domain, "did not shut down within 60 s");
            }
        }

        return $"domain {id}: {action.ToString().ToLowerInvariant()}";
    }

    public async Task<DomainListReply> ListAsync(CancellationToken cancel)
    {
        var list = await kernel.CallAsync<DomainList>(new ListDomains(), cancel).ConfigureAwait(false);
        var now = Environment.TickCount64;
        var rows = new List<DomainRow> { ControlDomainRow() };
        lock (_byId)
        {
            foreach (var d in list.Domains.OrderBy(d => d.DomainId))
            {
                var uptime = _byId.TryGetValue(d.DomainId, out var g) ? now - g.CreatedAtMs : 0;
                rows.Add(new DomainRow(d.Name, d.DomainId, d.MemoryKiB / 1024, d.MaxMemoryKiB / 1024, d.VcpusOnline, StateColumn(d.State), d.CpuTimeNs, uptime));
            }
        }

        return new DomainListReply(rows, Stopwatch.GetTimestamp() * (1_000_000_000 / Stopwatch.Frequency));
    }

    public async Task<string> SetMemoryAsync(MemoryRequest m, CancellationToken cancel)
    {
        var (id, guest) = await ResolveAsync(m.Domain, cancel).ConfigureAwait(false);
        await CallAsync<OkReply>(guest?.Name ?? m.Domain, new SetMemory(id, m.TargetMiB * 1024, m.MaxMiB * 1024), cancel).ConfigureAwait(false);
        if (m.TargetMiB is { } target)
        {
            await xenstore.SetTargetAsync(id, guest?.Name ?? m.Domain, target * 1024L, cancel).ConfigureAwait(false);
        }

        return m.TargetMiB is { } t ? $"domain {id}: memory target {t} MiB" : $"domain {id}: maxmem {m.MaxMiB} MiB";
    }

    public async Task<string> SetVcpusAsync(VcpuSetRequest v, CancellationToken cancel)
    {
        var (id, guest) = await ResolveAsync(v.Domain, cancel).ConfigureAwait(false);
        await CallAsync<OkReply>(guest?.Name ?? v.Domain, new SetVcpusOnline(id, v.Count), cancel).ConfigureAwait(false);
        return $"domain {id}: {v.Count} vCPUs online";
    }

    public async Task<string> PinAsync(VcpuPinRequest p, CancellationToken cancel)
    {
        var (id, guest) = await ResolveAsync(p.Domain, cancel).ConfigureAwait(false);
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
        foreach (var cpu in set.Resolve(hostPcpus))
        {
            mask |= 1UL << cpu;
        }

        await CallAsync<OkReply>(name, new SetVcpuAffinity(id, p.Vcpu, mask), cancel).ConfigureAwait(false);
        return $"domain {id}: vcpu {(p.Vcpu < 0 ? "all" : p.Vcpu)} pinned to {set}";
    }

    public async Task<VcpuListReply> ListVcpusAsync(string? domain, CancellationToken cancel)
    {
        var id = -1;
        if (domain is not null)
        {
            (id, _) = await ResolveAsync(domain, cancel).ConfigureAwait(false);
        }

        var names = (await kernel.CallAsync<DomainList>(new ListDomains(), cancel).ConfigureAwait(false)).Domains.ToDictionary(d => d.DomainId, d => d.Name);
        var list = await CallAsync<VcpuList>(domain ?? "*", new ListVcpus(id), cancel).ConfigureAwait(false);
        return new VcpuListReply([.. list.Vcpus.Select(v => new VcpuRow(
            names.GetValueOrDefault(v.DomainId, "?"), v.DomainId, v.Vcpu, v.Pcpu, v.State, v.CpuTimeNs, MaskText(v.Affinity), v.Online))]);
    }

    public async Task<SchedCreditReply> SchedCreditAsync(SchedCreditRequest s, CancellationToken cancel)
    {
        if (s.Domain is not null)
        {
            await _gate.WaitAsync(cancel).ConfigureAwait(false);
            try
            {
                var (id, guest) = await ResolveAsync(s.Domain, cancel).ConfigureAwait(false);
                if (guest is null)
                {
                    throw new DomainOperationException(s.Domain, "was not created by this toolstack");
                }

                if (s.Weight is not null || s.Cap is not null)
                {
                    var weight = s.Weight ?? guest.Weight;
                    var cap = s.Cap ?? guest.Cap;
                    await CallAsync<OkReply>(guest.Name, new SetSchedCredit(id, weight, cap), cancel).ConfigureAwait(false);
                    guest.Weight = weight;
                    guest.Cap = cap;
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        lock (_byId)
        {
            return new SchedCreditReply([.. _byId.Values
                .Where(g => s.Domain is null || g.Name == s.Domain || g.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == s.Domain)
                .OrderBy(g => g.Id)
                .Select(g => new SchedCreditRow(g.Name, g.Id, g.Weight, g.Cap))]);
        }
    }

    /// <summary>A kernel DomainEvent: a shutdown or crash is acted on as the guest's config says; a destruction is forgotten.</summary>
    public async Task OnDomainEventAsync(DomainEvent e, CancellationToken cancel)
    {
        if (e.State is not ("s" or "c" or "d"))
        {
            return;
        }

        await _gate.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            Guest? guest;
            lock (_byId)
            {
                _byId.TryGetValue(e.DomainId, out guest);
            }

            if (guest is null)
            {
                return; // destroyed by a verb, or not ours
            }

            if (e.State == "d")
            {
                await ForgetAsync(guest, "destroyed", domainGone: true).ConfigureAwait(false);
                return;
            }

            var reason = e.State == "c" ? XenShutdownReason.Crash : (XenShutdownReason)e.ShutdownReason;
            var action = reason switch
            {
                XenShutdownReason.Poweroff => guest.Config.OnPoweroff,
                XenShutdownReason.Reboot => guest.Config.OnReboot,
                XenShutdownReason.Crash or XenShutdownReason.Watchdog => guest.Config.OnCrash,
                _ => LifecycleAction.Preserve, // suspend, soft reset: for save/restore, later
            };
            if (_goingDown)
            {
                action = LifecycleAction.Destroy;
            }

            await ApplyAsync(guest, reason, action, cancel).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is KernelRequestException or DomainOperationException or KernelConnectionLostException)
        {
            log.DomainProblem(e.DomainId.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// `host down`: every guest is asked to power off, given the timeout, then destroyed. The
    /// remote shutdown takes effect at once today; once guests run the xenstore control/shutdown
    /// protocol, this is where a guest gets time to stop cleanly.
    /// </summary>
    public async Task ShutdownAllAsync(TimeSpan timeout)
    {
        List<Guest> guests;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _goingDown = true;
            lock (_byId)
            {
                guests = [.. _byId.Values];
            }

            foreach (var g in guests)
            {
                await kernel.RequestAsync(new DomainCommand(g.Id, DomainOperation.Shutdown, (int)XenShutdownReason.Poweroff)).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }

        try
        {
            await Task.WhenAll(guests.Select(g => g.Settled.Task)).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // destroyed below
        }

        var list = await kernel.CallAsync<DomainList>(new ListDomains()).ConfigureAwait(false);
        foreach (var d in list.Domains)
        {
            await consoles.UnbindAsync(d.DomainId).ConfigureAwait(false); // its ring is handed back while the domain exists
            if (!d.IsService)
            {
                await xenstore.RemoveAsync(d.DomainId, d.Name, uuid: null, CancellationToken.None).ConfigureAwait(false);
            }

            await kernel.RequestAsync(new DomainCommand(d.DomainId, DomainOperation.Destroy)).ConfigureAwait(false);
        }
    }

    /// <summary>The kernel died: every guest went with it.</summary>
    public void KernelDied(string cause)
    {
        consoles.KernelDied();
        lock (_byId)
        {
            foreach (var g in _byId.Values)
            {
                consoles.Forget(g.Name, $"the kernel died ({cause})");
                g.Settled.TrySetResult();
            }

            _byId.Clear();
        }
    }

    private static string StateColumn(string letter) =>
        string.Concat("rbpscd".Select(c => c == letter[0] ? c : '-'));

    private static string MaskText(ulong mask) => mask == ulong.MaxValue ? "all" : string.Join(',', Enumerable.Range(0, 64).Where(i => (mask & (1UL << i)) != 0));

    private static DomainRow ControlDomainRow()
    {
        using var self = Process.GetCurrentProcess();
        return new DomainRow("Domain-0", 0, self.WorkingSet64 >> 20, 0, Environment.ProcessorCount, "r-----", (long)self.TotalProcessorTime.TotalNanoseconds, (long)(DateTime.Now - self.StartTime).TotalMilliseconds);
    }

    private async Task ApplyAsync(Guest guest, XenShutdownReason reason, LifecycleAction action, CancellationToken cancel)
    {
        var what = reason.ToString().ToLowerInvariant();
        if (action is LifecycleAction.Restart or LifecycleAction.RenameRestart)
        {
            var now = Environment.TickCount64;
            guest.RecentRestartsMs.RemoveAll(t => now - t > RestartWindowMs);
            if (guest.RecentRestartsMs.Count >= MaxRestartsInWindow)
            {
                log.DomainProblem(guest.Name, $"restarted {MaxRestartsInWindow} times in {RestartWindowMs / 1000} s; destroyed instead");
                action = LifecycleAction.Destroy;
            }
            else
            {
                guest.RecentRestartsMs.Add(now);
            }
        }

        log.DomainLifecycle(guest.Id, guest.Name, what, action.ToString().ToLowerInvariant());
        await consoles.DrainOnceAsync(cancel).ConfigureAwait(false);
        switch (action)
        {
            case LifecycleAction.Preserve:
                guest.Settled.TrySetResult();
                return;
            case LifecycleAction.Destroy:
                await ForgetAsync(guest, $"{what}, destroyed (on_{what})").ConfigureAwait(false);
                await kernel.CallAsync<OkReply>(new DomainCommand(guest.Id, DomainOperation.Destroy), cancel).ConfigureAwait(false);
                return;
            default:
                // restart (rename-restart too: the kernel keeps names unique, so the old domain cannot be kept beside the new one)
                var old = guest.Id;
                lock (_byId)
                {
                    _byId.Remove(old);
                }

                await consoles.UnbindAsync(old).ConfigureAwait(false);
                await xenstore.RemoveAsync(old, guest.Name, uuid: null, cancel).ConfigureAwait(false);
                await kernel.CallAsync<OkReply>(new DomainCommand(old, DomainOperation.Destroy), cancel).ConfigureAwait(false);
                var settled = guest.Settled;
                guest.Settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                try
                {
                    await BootAsync(guest, paused: false, cancel).ConfigureAwait(false);
                }
                catch
                {
                    consoles.Forget(guest.Name, "could not be restarted");
                    throw;
                }
                finally
                {
                    settled.TrySetResult();
                }

                return;
        }
    }

    /// <summary>Creates the domain paused, loads its kernel, unpauses it unless asked not to. Caller holds the gate.</summary>
    private async Task BootAsync(Guest guest, bool paused, CancellationToken cancel)
    {
        var (create, image, ramdisk) = DomainBuilder.Build(guest.Config, guest.ConfigPath, hostPcpus, xenstoreDomain());
        var created = await CallAsync<DomainCreated>(guest.Name, create, cancel).ConfigureAwait(false);
        try
        {
            await CallAsync<OkReply>(guest.Name, new LoadKernel(created.DomainId, image, ramdisk, guest.Config.CommandLine), cancel).ConfigureAwait(false);
            guest.Id = created.DomainId;
            guest.CreatedAtMs = Environment.TickCount64;
            consoles.Bind(created.DomainId, guest.Name);
            await consoles.AttachRingAsync(created.DomainId, guest.Name, created.ConsolePort, cancel).ConfigureAwait(false);
            await xenstore.CreateAsync(created.DomainId, guest, created.ConsolePort, created.ConsoleFrame, created.XenstorePort, created.XenstoreFrame, cancel).ConfigureAwait(false);
            lock (_byId)
            {
                _byId[created.DomainId] = guest;
            }

            if (!paused)
            {
                await CallAsync<OkReply>(guest.Name, new DomainCommand(created.DomainId, DomainOperation.Unpause), cancel).ConfigureAwait(false);
            }
        }
        catch
        {
            lock (_byId)
            {
                _byId.Remove(created.DomainId);
            }

            await consoles.UnbindAsync(created.DomainId).ConfigureAwait(false);
            await xenstore.RemoveAsync(created.DomainId, guest.Name, guest.Uuid, CancellationToken.None).ConfigureAwait(false);
            await kernel.RequestAsync(new DomainCommand(created.DomainId, DomainOperation.Destroy), CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private async Task ForgetAsync(Guest guest, string reason, bool domainGone = false)
    {
        lock (_byId)
        {
            _byId.Remove(guest.Id);
        }

        await consoles.UnbindAsync(guest.Id, domainGone).ConfigureAwait(false);
        await xenstore.RemoveAsync(guest.Id, guest.Name, guest.Uuid, CancellationToken.None).ConfigureAwait(false);
        consoles.Forget(guest.Name, reason);
        guest.Settled.TrySetResult();
    }

    public async Task<int> ResolveIdAsync(string domain, CancellationToken cancel) => (await ResolveAsync(domain, cancel).ConfigureAwait(false)).Id;

    /// <summary>Runs <paramref name="body"/> while no other change to the domain table runs (hot plug uses it so a destroy cannot interleave).</summary>
    public async Task<T> ExclusiveAsync<T>(Func<Task<T>> body, CancellationToken cancel)
    {
        await _gate.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            return await body().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A domain by name or id: the id, and our record of it when we created it.</summary>
    public async Task<(int Id, Guest? Guest)> ResolveAsync(string domain, CancellationToken cancel)
    {
        lock (_byId)
        {
            foreach (var g in _byId.Values)
            {
                if (g.Name == domain)
                {
                    return (g.Id, g);
                }
            }
        }

        var list = await kernel.CallAsync<DomainList>(new ListDomains(), cancel).ConfigureAwait(false);
        var isId = int.TryParse(domain, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id);
        var match = list.Domains.FirstOrDefault(d => isId ? d.DomainId == id : d.Name == domain)
            ?? throw new DomainOperationException(domain, "no such domain");
        lock (_byId)
        {
            return (match.DomainId, _byId.GetValueOrDefault(match.DomainId));
        }
    }

    private async Task<T> CallAsync<T>(string domain, ControlMessage request, CancellationToken cancel)
        where T : ControlMessage
    {
        try
        {
            return await kernel.CallAsync<T>(request, cancel).ConfigureAwait(false);
        }
        catch (KernelRequestException e)
        {
            throw new DomainOperationException(domain, e.Message);
        }
    }
}
