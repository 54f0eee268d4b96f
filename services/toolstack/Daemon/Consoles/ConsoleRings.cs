using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Disagg.Abi.Io;
using Disagg.Control;
using Disagg.Ring;
using Disagg.Service;

namespace Disagg.Toolstack.Daemon.Consoles;

/// <summary>
/// The PV console backend (Xen's xenconsoled, for every guest whose ConsoleBackendDomain is 0): the
/// daemon's service channel as domain 0 maps each guest's grant ref 0 (struct xencons_interface),
/// binds its console port, drains <c>out</c> on each event and writes attached clients' keystrokes
/// into <c>in</c>. One thread does all ring work; it never waits on a guest or a client.
/// Flood-safe: each ring has a byte budget (<see cref="RatePerSecond"/>, burst <see cref="Burst"/>);
/// past it the ring is left full, so a flooding guest waits on its own ring (pvos then drops its
/// output), and the other rings and the daemon carry on. Indices are the guest's and are not trusted:
/// a ring claiming more than its size is discarded and reported once.
/// </summary>
internal sealed class ConsoleRings : IAsyncDisposable
{
    public const long RatePerSecond = 1 << 20;
    public const long Burst = 256 * 1024;
    private const int MaxPendingInput = 4096;
    private static readonly TimeSpan KernelCallTimeout = TimeSpan.FromSeconds(2);

    private readonly ServiceChannel _channel;
    private readonly DaemonLog _log;
    private readonly Action<int, ReadOnlySpan<byte>> _deliver;
    private readonly object _lock = new();
    private readonly Dictionary<int, Ring> _byPort = [];
    private readonly Dictionary<int, Ring> _byDomain = [];
    private readonly Thread _thread;
    private volatile bool _stop;

    private ConsoleRings(ServiceChannel channel, DaemonLog log, Action<int, ReadOnlySpan<byte>> deliver)
    {
        _channel = channel;
        _log = log;
        _deliver = deliver;
        _thread = new Thread(Run) { IsBackground = true, Name = "console rings" };
        _thread.Start();
    }

    /// <summary>Opens domain 0's service channel with the control token; null (logged) if the kernel refuses.</summary>
    public static async Task<ConsoleRings?> OpenAsync(string kernelSocket, string token, DaemonLog log, Action<int, ReadOnlySpan<byte>> deliver, CancellationToken cancel)
    {
        try
        {
            var channel = await ServiceChannel.OpenAsync(kernelSocket, token, bufferPages: 1, cancel).ConfigureAwait(false);
            return new ConsoleRings(channel, log, deliver);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or IOException or System.Net.Sockets.SocketException or Interop.InteropException)
        {
            log.DomainProblem("Domain-0", $"no PV console backend (service channel: {e.Message}); consoles show console_io and SBI output only");
            return null;
        }
    }

    /// <summary>Connects the domain's console ring (grant ref 0, its console port). Before the guest runs.</summary>
    public async Task AttachAsync(int domainId, int consolePort, CancellationToken cancel)
    {
        var page = await _channel.MapGrantAsync(domainId, Abi.Grants.ReservedGrantRefs.Console, readOnly: false, cancel).ConfigureAwait(false);
        int port;
        try
        {
            port = await _channel.BindInterdomainAsync(domainId, consolePort, cancel).ConfigureAwait(false);
        }
        catch
        {
            await page.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var ring = new Ring(domainId, page, port) { Tokens = Burst, RefilledAt = Environment.TickCount64 };
        lock (_lock)
        {
            _byPort[port] = ring;
            _byDomain[domainId] = ring;
        }

        _channel.Doorbell.Ring(); // look at it once now: output may be there already
    }

    /// <summary>Keystrokes for the guest; false when it has no ring. What does not fit the pending queue is dropped.</summary>
    public bool Input(int domainId, ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            if (!_byDomain.TryGetValue(domainId, out var ring))
            {
                return false;
            }

            foreach (var b in bytes)
            {
                if (ring.PendingInput.Count < MaxPendingInput)
                {
                    ring.PendingInput.Enqueue(b);
                }
            }
        }

        _channel.Doorbell.Ring();
        return true;
    }

    /// <summary>Drains every ring now (before a domain id is unbound, so its last words reach the log).</summary>
    public void DrainAll()
    {
        lock (_lock)
        {
            foreach (var ring in _byDomain.Values)
            {
                Service(ring, ignoreBudget: true);
            }
        }
    }

    /// <summary>The kernel died: rings are dropped without asking it anything.</summary>
    public bool KernelGone { get; set; }

    /// <summary>
    /// Disconnects a domain's ring: its last output is drained, its port closed and the page unmapped —
    /// before the domain is destroyed. When it is gone already (<paramref name="domainGone"/>) the
    /// kernel is not asked: the mapping is left to the channel's end.
    /// </summary>
    public async Task DetachAsync(int domainId, bool domainGone = false)
    {
        Ring? ring;
        lock (_lock)
        {
            if (_byDomain.Remove(domainId, out ring))
            {
                Service(ring, ignoreBudget: true);
                _byPort.Remove(ring.Port);
                ring.Detached = true;
            }
        }

        if (ring is null || domainGone || KernelGone)
        {
            return;
        }

        try
        {
            await _channel.CloseAsync(ring.Port).WaitAsync(KernelCallTimeout).ConfigureAwait(false);
            await ring.Page.DisposeAsync().AsTask().WaitAsync(KernelCallTimeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or ObjectDisposedException or TimeoutException or IOException or System.Net.Sockets.SocketException)
        {
            // the domain or the kernel is gone, and the port and the map with it
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop = true;
        _channel.Doorbell.Ring();
        _thread.Join();
        List<int> domains;
        lock (_lock)
        {
            domains = [.. _byDomain.Keys];
        }

        foreach (var d in domains)
        {
            await DetachAsync(d).ConfigureAwait(false);
        }

        await _channel.DisposeAsync().ConfigureAwait(false);
    }

    private void Run()
    {
        Span<int> ports = stackalloc int[256];
        while (!_stop)
        {
            bool waiting;
            lock (_lock)
            {
                waiting = _byDomain.Values.Any(r => r.Throttled || r.PendingInput.Count > 0);
            }

            // Only a ring that waits on us (its budget, room for input) needs a timed look; otherwise the thread
            // sleeps until an event or the doorbell: an idle host never wakes it.
            _channel.WaitForEvents(waiting ? TimeSpan.FromMilliseconds(20) : Timeout.InfiniteTimeSpan);
            _channel.Doorbell.TryConsume();
            var n = _channel.TakePendingEvents(ports);
            lock (_lock)
            {
                for (var i = 0; i < n; i++)
                {
                    if (_byPort.TryGetValue(ports[i], out var ring))
                    {
                        Service(ring, ignoreBudget: false);
                    }
                }

                // Rings without an event: input waiting for room, a throttled guest.
                foreach (var ring in _byDomain.Values)
                {
                    Service(ring, ignoreBudget: false);
                }
            }
        }
    }

    /// <summary>struct xencons_interface's byte rings (console.h; offsets pinned by Disagg.Abi.Tests): the guest produces out, we produce in.</summary>
    private static ByteRing OutRing(Span<byte> page) => new(page, 1024, ConsoleInterface.OutSize, 3080, 3084);

    private static ByteRing InRing(Span<byte> page) => new(page, 0, ConsoleInterface.InSize, 3072, 3076);

    /// <summary>A ring index as the guest left it, for a report (the ring itself reads them with acquire order).</summary>
    private static uint Index(Span<byte> page, int offset) => Volatile.Read(ref MemoryMarshal.Cast<byte, uint>(page[offset..(offset + 4)])[0]);

    /// <summary>One pass over a ring: out to the log (within budget), pending input in; one notify. Caller holds the lock.</summary>
    private void Service(Ring ring, bool ignoreBudget)
    {
        if (ring.Detached)
        {
            return;
        }

        var page = ring.Page.Span[..Unsafe.SizeOf<ConsoleInterface>()];
        var notify = false;
        var now = Environment.TickCount64;
        ring.Tokens = Math.Min(Burst, ring.Tokens + ((now - ring.RefilledAt) * RatePerSecond / 1000));
        ring.RefilledAt = now;

        var output = OutRing(page);
        if (!output.TryGetUnconsumed(out var avail))
        {
            Report(ring, $"console ring out indices are bogus (prod {Index(page, 3084)}, cons {Index(page, 3080)}); its contents were discarded");
            output.DiscardAll();
            notify = true;
        }
        else if (avail > 0)
        {
            var take = ignoreBudget ? avail : (int)Math.Min(avail, ring.Tokens);
            ring.Throttled = take < avail;
            if (take > 0)
            {
                Span<byte> bytes = stackalloc byte[take];
                if (output.TryRead(bytes, out var got))
                {
                    ring.Tokens -= got;
                    notify = true;
                    _deliver(ring.DomainId, bytes[..got]);
                }
            }
        }
        else
        {
            ring.Throttled = false;
        }

        if (ring.PendingInput.Count > 0)
        {
            var input = InRing(page);
            if (!input.TryGetUnconsumed(out var used))
            {
                Report(ring, "console ring in indices are bogus; input dropped");
                ring.PendingInput.Clear();
            }
            else
            {
                Span<byte> bytes = stackalloc byte[Math.Min(input.Size - used, ring.PendingInput.Count)];
                for (var i = 0; i < bytes.Length; i++)
                {
                    bytes[i] = ring.PendingInput.Dequeue();
                }

                if (!input.TryWrite(bytes, out var wrote))
                {
                    Report(ring, "console ring in indices are bogus; input dropped");
                    ring.PendingInput.Clear();
                }
                else if (wrote > 0)
                {
                    notify = true;
                }
            }
        }

        if (notify)
        {
            _ = NotifyAsync(ring.Port);
        }
    }

    private async Task NotifyAsync(int port)
    {
        try
        {
            await _channel.NotifyAsync(port).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or ObjectDisposedException or IOException)
        {
            // the domain or the kernel went away; the ring is detached when the daemon hears of it
        }
    }

    private void Report(Ring ring, string what)
    {
        if (!ring.Reported)
        {
            ring.Reported = true;
            _log.DomainProblem(ring.DomainId.ToString(System.Globalization.CultureInfo.InvariantCulture), what);
        }
    }

    private sealed class Ring(int domainId, MappedGrant page, int port)
    {
        public int DomainId { get; } = domainId;

        public MappedGrant Page { get; } = page;

        public int Port { get; } = port;

        public Queue<byte> PendingInput { get; } = new();

        public long Tokens { get; set; }

        public long RefilledAt { get; set; }

        public bool Throttled { get; set; }

        public bool Reported { get; set; }

        public bool Detached { get; set; }
    }
}
