using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Host;

namespace Disagg.Toolstack.Daemon.Guests;

/// <summary>
/// The guests this toolstack created, by domain id, and the one gate that serialises changes to
/// the domain table (create, destroy, restart, shutdown, hot plug): two CLIs at once, or a CLI and
/// a life-cycle event, never interleave halfway. Reads (list, tuning) do not take the gate.
/// </summary>
internal sealed class GuestRegistry(KernelLink kernel)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<int, Guest> _byId = [];

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

    public void Add(Guest guest)
    {
        lock (_byId)
        {
            _byId[guest.Id] = guest;
        }
    }

    public void Remove(int domainId)
    {
        lock (_byId)
        {
            _byId.Remove(domainId);
        }
    }

    public Guest? Find(int domainId)
    {
        lock (_byId)
        {
            return _byId.GetValueOrDefault(domainId);
        }
    }

    /// <summary>Every guest, by domain id, at this moment.</summary>
    public Guest[] Snapshot()
    {
        lock (_byId)
        {
            return [.. _byId.Values.OrderBy(g => g.Id)];
        }
    }

    /// <summary>Forgets every guest at once (the kernel died, and they with it).</summary>
    public Guest[] Clear()
    {
        lock (_byId)
        {
            Guest[] all = [.. _byId.Values];
            _byId.Clear();
            return all;
        }
    }

    /// <summary>Waits for the gate; the caller releases it with <see cref="Leave"/>.</summary>
    public Task EnterAsync(CancellationToken cancel) => _gate.WaitAsync(cancel);

    public void Leave() => _gate.Release();

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

    public async Task<int> ResolveIdAsync(string domain, CancellationToken cancel) => (await ResolveAsync(domain, cancel).ConfigureAwait(false)).Id;

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

        var list = await kernel.Client.CallAsync<DomainList>(new ListDomains(), cancel).ConfigureAwait(false);
        var isId = int.TryParse(domain, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id);
        var match = list.Domains.FirstOrDefault(d => isId ? d.DomainId == id : d.Name == domain)
            ?? throw new DomainOperationException(domain, "no such domain");
        return (match.DomainId, Find(match.DomainId));
    }

    /// <summary>A kernel request on behalf of one domain: the kernel's refusal becomes an error naming that domain.</summary>
    public async Task<T> CallAsync<T>(string domain, ControlMessage request, CancellationToken cancel)
        where T : ControlMessage
    {
        try
        {
            return await kernel.Client.CallAsync<T>(request, cancel).ConfigureAwait(false);
        }
        catch (KernelRequestException e)
        {
            throw new DomainOperationException(domain, e.Message);
        }
    }
}
