using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Interop;
using Disagg.Service;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Domains;
using Disagg.Xenstored.Hosting;
using Microsoft.Extensions.Logging;

namespace Disagg.Xenstored.Transport.Ring;

/// <summary>
/// Guests' rings through the kernel: xenstored's service channel maps grant ref 1 of an introduced domain (its
/// xenstore page, granted to us at domain creation) and binds its xenstore event channel (offered to us,
/// unbound). The guest's notifications arrive as pending ports in the channel's shared bitmap; the channel's
/// doorbell sits in the epoll reactor, which only posts <see cref="Drain"/> to the store loop, and the loop takes
/// the pending ports and kicks their rings. Before it goes idle the loop re-arms the doorbell (the kernel rings it
/// once per announced sleep), so there is no polling. Everything but <see cref="OpenAsync"/>,
/// <see cref="ListDomainsAsync"/> and <see cref="DisposeAsync"/> runs on the loop thread (or before it starts).
/// Kernel set-up calls (map, bind, close) are rare and short, so the loop waits for them; notifications are
/// sent without waiting.
/// </summary>
public sealed class KernelRingSource : IGuestRingSource, IAsyncDisposable
{
    /// <summary>Xen's GNTTAB_RESERVED_XENSTORE: every guest grants its xenstore page as ref 1.</summary>
    public const uint XenstoreRef = 1;

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private readonly ServiceChannel _channel;
    private readonly StoreLoop _loop;
    private readonly ILogger _log;
    private readonly Dictionary<int, KernelGuestRing> _byPort = [];
    private readonly Dictionary<uint, KernelGuestRing> _byDomain = [];
    private readonly Dictionary<uint, KernelGuestRing> _prepared = [];
    private readonly int[] _ports = new int[256];
    private IDisposable? _doorbell;
    private Task? _events;
    private bool _disposed;

    private KernelRingSource(ServiceChannel channel, StoreLoop loop, ILogger log)
    {
        _channel = channel;
        _loop = loop;
        _log = log;
    }

    /// <summary>Our domain id as the kernel knows it (the XenstoreDomain guests name at creation).</summary>
    public int DomainId => _channel.DomainId;

    public int AttachedCount => _byDomain.Count;

    public static async Task<KernelRingSource> OpenAsync(string kernelSocket, string token, StoreLoop loop, ILogger log, CancellationToken cancel = default)
    {
        // Grant copy is not used: one page of copy buffer is the least the kernel hands out.
        var channel = await ServiceChannel.OpenAsync(kernelSocket, token, bufferPages: 1, cancel).ConfigureAwait(false);
        return new KernelRingSource(channel, loop, log);
    }

    /// <summary>
    /// Subscribes to domain events (before <see cref="ListDomainsAsync"/>, so no death falls between the two):
    /// <paramref name="dying"/> is called (from a pool thread) for each domain that starts dying,
    /// <paramref name="lost"/> once if the kernel connection goes.
    /// </summary>
    public async Task SubscribeAsync(Action<uint> dying, Action<Exception?> lost, CancellationToken cancel = default)
    {
        await _channel.Kernel.CallAsync<OkReply>(new Subscribe(), cancel).ConfigureAwait(false);
        _events = Task.Run(async () =>
        {
            Exception? failure = null;
            try
            {
                await foreach (var e in _channel.Kernel.Events.ReadAllAsync().ConfigureAwait(false))
                {
                    if (e.State == "d" && e.DomainId > 0)
                    {
                        dying((uint)e.DomainId);
                    }
                }
            }
            catch (KernelConnectionLostException e)
            {
                failure = e;
            }

            if (!_disposed)
            {
                lost(failure);
            }
        });
    }

    /// <summary>The domains that exist now and name us as their xenstore domain: the ones a restart re-attaches.</summary>
    public async Task<HashSet<uint>> ListDomainsAsync(CancellationToken cancel = default)
    {
        var list = await _channel.Kernel.CallAsync<DomainList>(new ListDomains(), cancel).ConfigureAwait(false);
        return [.. list.Domains.Where(d => d.State != "d" && d.XenstoreDomain == DomainId && d.DomainId > 0).Select(d => (uint)d.DomainId)];
    }

    /// <summary>Puts the doorbell in <paramref name="reactor"/> and takes whatever is pending already.</summary>
    public void Start(EpollReactor reactor)
    {
        _doorbell = reactor.Register(_channel.Doorbell, () => _loop.Invoke(Drain));
        _loop.Invoke(Drain);
    }

    public bool RebindsOnIntroduce => true;

    public bool TryPrepare(GuestDomain domain, out string reason)
    {
        // Re-introduction (Xen's way to recover a guest's xenbus): the connection let go of its ring already
        // (RebindsOnIntroduce); whatever is left is closed, so the guest's port is unbound and can be bound anew.
        if (_prepared.Remove(domain.DomainId, out var stale))
        {
            stale.Dispose();
        }

        if (_byDomain.TryGetValue(domain.DomainId, out var current))
        {
            current.Dispose();
        }

        var ring = Open(domain, out reason);
        if (ring is null)
        {
            Log.RingRefused(_log, domain.DomainId, reason);
            return false;
        }

        _prepared[domain.DomainId] = ring;
        return true;
    }

    public IGuestRing? TryTake(GuestDomain domain)
    {
        if (!_prepared.Remove(domain.DomainId, out var ring))
        {
            if (_byDomain.ContainsKey(domain.DomainId))
            {
                return null; // attached already
            }

            // After our restart: the domain was introduced before, map and bind it again.
            ring = Open(domain, out var reason);
            if (ring is null)
            {
                Log.RingRefused(_log, domain.DomainId, reason);
                return null;
            }
        }

        _byDomain[domain.DomainId] = ring;
        _byPort[ring.LocalPort] = ring;
        Log.RingAttached(_log, domain.DomainId, domain.RingFrame, domain.EventChannel, ring.LocalPort);
        return ring;
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        _doorbell?.Dispose();
        await _channel.DisposeAsync().ConfigureAwait(false); // the kernel releases every map and port with the connection
        if (_events is not null)
        {
            await _events.ConfigureAwait(false);
        }
    }

    internal void Notify(KernelGuestRing ring)
    {
        // The store loop is the only caller, so the channel's single-producer send ring fits: no request, no
        // system call unless the kernel's pump sleeps. Only a full ring falls back to a request.
        if (_channel.Notify(ring.LocalPort))
        {
            return;
        }

        var sent = _channel.NotifyAsync(ring.LocalPort);
        if (sent.IsCompleted)
        {
            _ = sent.Exception; // observed: a port closed under us (the domain is going) is not our problem
        }
        else
        {
            sent.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    /// <summary>Forgets <paramref name="ring"/> and gives its port and page back to the kernel (waiting, so the guest's port can be bound again at once).</summary>
    internal void Forget(KernelGuestRing ring)
    {
        if (_byPort.TryGetValue(ring.LocalPort, out var p) && p == ring)
        {
            _byPort.Remove(ring.LocalPort);
        }

        if (_byDomain.TryGetValue(ring.DomainId, out var d) && d == ring)
        {
            _byDomain.Remove(ring.DomainId);
        }

        if (_disposed)
        {
            return;
        }

        try
        {
            Wait(CloseAsync(ring));
        }
        catch (TimeoutException)
        {
            Log.KernelSlow(_log, ring.DomainId); // the kernel releases them with our connection at the latest
        }
    }

    private static T Wait<T>(Task<T> task) => task.WaitAsync(CallTimeout).GetAwaiter().GetResult();

    private static void Wait(Task task) => task.WaitAsync(CallTimeout).GetAwaiter().GetResult();

    private async Task CloseAsync(KernelGuestRing ring)
    {
        try
        {
            await _channel.CloseAsync(ring.LocalPort).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException)
        {
            // closed already (the guest's end went with its domain, or the channel went)
        }

        await ring.Map.DisposeAsync().ConfigureAwait(false);
    }

    private KernelGuestRing? Open(GuestDomain domain, out string reason)
    {
        MappedGrant? map = null;
        try
        {
            map = Wait(_channel.MapGrantAsync((int)domain.DomainId, XenstoreRef));
            if (map.Frame != domain.RingFrame)
            {
                reason = $"grant {XenstoreRef} of domain {domain.DomainId} is frame {map.Frame}, not the introduced {domain.RingFrame}";
                Wait(map.DisposeAsync().AsTask());
                return null;
            }

            var port = Wait(_channel.BindInterdomainAsync((int)domain.DomainId, (int)domain.EventChannel));
            reason = "";
            return new KernelGuestRing(this, domain.DomainId, map, port);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or TimeoutException)
        {
            reason = e.Message;
            if (map is not null)
            {
                try
                {
                    Wait(map.DisposeAsync().AsTask());
                }
                catch (TimeoutException)
                {
                    // the kernel is not answering; the map goes with our connection
                }
            }

            return null;
        }
    }

    /// <summary>Loop thread: kicks every ring whose port is pending, then re-arms the doorbell.</summary>
    private void Drain()
    {
        if (_disposed)
        {
            return;
        }

        while (true)
        {
            var n = _channel.TakePendingEvents(_ports);
            for (var i = 0; i < n; i++)
            {
                if (_byPort.TryGetValue(_ports[i], out var ring))
                {
                    ring.Kick();
                }
            }

            // With no wait, WaitForEvents only announces that we are about to sleep (so the kernel rings the
            // doorbell for the next event) and says whether something became pending meanwhile.
            if (n < _ports.Length && !_channel.WaitForEvents(TimeSpan.Zero))
            {
                return;
            }
        }
    }
}

/// <summary>A guest's xenstore page as mapped through the kernel, and our end of its event channel.</summary>
public sealed class KernelGuestRing : IGuestRing
{
    private readonly KernelRingSource _source;
    private Action? _onKick;
    private bool _released;

    internal KernelGuestRing(KernelRingSource source, uint domainId, MappedGrant map, int localPort)
    {
        _source = source;
        DomainId = domainId;
        Map = map;
        LocalPort = localPort;
    }

    public uint DomainId { get; }

    public int LocalPort { get; }

    internal MappedGrant Map { get; }

    public Span<byte> Page => Map.Span;

    public void Notify() => _source.Notify(this);

    public void Listen(Action onKick) => _onKick = onKick;

    /// <summary>Closes our port and unmaps the page. Loop thread.</summary>
    public void Dispose()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        _onKick = null;
        _source.Forget(this);
    }

    internal void Kick() => _onKick?.Invoke();
}
