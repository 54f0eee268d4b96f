using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Disagg.Interop;
using Disagg.Netback.Switch;
using Disagg.Service;

namespace Disagg.Netback.Datapath;

/// <summary>
/// The one switching thread: it owns every vif's rings, every bridge and port, and the copy buffer. A turn
/// gathers up to a batch of frames (tx requests of the vifs with work, round robin, and frames waiting on TAP
/// uplinks), copies them into the copy buffer with one grant-copy submission, switches them, copies each into
/// its destinations' posted rx buffers with another, and publishes responses with one notification per ring
/// at most. With nothing to do it asks every ring to wake it (ring.h final check) and sleeps on the event
/// doorbell. Nothing on this path allocates or takes a lock; the xenbus side talks to it through
/// <see cref="Submit"/> (applied between batches).
/// </summary>
public sealed partial class SwitchLoop : IDisposable
{
    /// <summary>Frames per batch: what the copy ring takes in one submission, at most.</summary>
    public const int MaxBatch = 64;

    /// <summary>Frames one vif may put into a batch before the next vif's turn (fairness under a flood).</summary>
    public const int PerVifBudget = 32;

    /// <summary>
    /// Frames a vif without posted rx buffers may have waiting (then they are dropped, rx_no_buffer), from a pool
    /// of <see cref="RxBacklogPages"/> copy-buffer pages after the batch's: a burst outruns a frontend that
    /// re-posts its buffers a moment later, and is delivered rather than lost.
    /// </summary>
    public const int RxBacklogPerVif = 64;

    /// <summary>Copy-buffer pages, after the batch's <see cref="MaxBatch"/>, that hold backlogged frames.</summary>
    public const int RxBacklogPages = 256;

    private static readonly TimeSpan CopyTimeout = TimeSpan.FromSeconds(10);

    private readonly IBackendChannel _kernel;
    private readonly ConcurrentQueue<SwitchCommand> _commands = new();
    private readonly Doorbell _wake = new();
    private readonly Channel<Vif> _faults = Channel.CreateUnbounded<Vif>();
    private readonly Dictionary<string, SwitchBridge> _bridges = new(StringComparer.Ordinal);
    private readonly Vif?[] _byPort = new Vif?[Abi.Boot.SharedInfo.MaxPorts];
    private readonly List<Vif> _active = [];
    private readonly List<Uplink.TapUplink> _uplinks = [];
    private readonly List<Vif> _touched = [];
    private readonly List<Vif> _faulted = [];
    private readonly int[] _ports = new int[256];
    private readonly int[] _pollFds = new int[Readiness.MaxDescriptors];
    private readonly FrameSlot[] _frames = new FrameSlot[MaxBatch];
    private readonly Abi.Grants.GrantCopy[] _copies;
    private readonly RxDelivery[] _rx;
    private readonly int[] _backlogFree;
    private readonly List<Vif> _backlogged = new(256);
    private int _backlogFreeCount;
    private int[] _destinations = new int[64];
    private int _rxCount;
    private long _batches;
    private long _frameCount;
    private long _allocated;
    private int _roundRobin;
    private volatile bool _stop;
    private Thread? _thread;

    public SwitchLoop(IBackendChannel kernel)
    {
        if (kernel.BufferPages < MaxBatch)
        {
            throw new ArgumentException($"the copy buffer has {kernel.BufferPages} pages; the switch needs {MaxBatch}", nameof(kernel));
        }

        _kernel = kernel;
        _copies = new Abi.Grants.GrantCopy[kernel.CopyRingEntries];
        _rx = new RxDelivery[kernel.CopyRingEntries];
        // The backlog pool is whatever the buffer has past the batch's pages, up to RxBacklogPages (none: drop at once).
        _backlogFree = new int[Math.Min(RxBacklogPages, kernel.BufferPages - MaxBatch)];
        for (var i = 0; i < _backlogFree.Length; i++)
        {
            _backlogFree[_backlogFreeCount++] = MaxBatch + _backlogFree.Length - 1 - i;
        }
    }

    /// <summary>Turns that moved at least one frame (a batch each).</summary>
    public long Batches => Volatile.Read(ref _batches);

    /// <summary>Frames taken into batches (from tx rings and uplinks).</summary>
    public long Frames => Volatile.Read(ref _frameCount);

    /// <summary>Bytes the switching thread has allocated since it started, as of its last batch: flat once warm.</summary>
    public long AllocatedBytes => Volatile.Read(ref _allocated);

    /// <summary>Vifs whose ring faulted (garbage indices): the xenbus side disconnects them.</summary>
    public ChannelReader<Vif> Faults => _faults.Reader;

    /// <summary>Set when the thread stopped on its own (the kernel stopped performing copies): the process must go.</summary>
    public Exception? Failure { get; private set; }

    public Task Stopped => _stopped.Task;

    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Start()
    {
        _thread = new Thread(Run) { Name = "netback-switch", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Hands a command to the switching thread; completes when it has been applied.</summary>
    public Task Submit(SwitchCommand command)
    {
        _commands.Enqueue(command);
        _wake.Ring();
        return command.Done.Task;
    }

    public void Dispose()
    {
        _stop = true;
        _wake.Ring();
        _thread?.Join();
        _wake.Dispose();
    }

    private static long NowNs() => Stopwatch.GetTimestamp() * (1_000_000_000L / Stopwatch.Frequency);

    private void Run()
    {
        try
        {
            while (!_stop)
            {
                ApplyCommands();
                TakeEvents();
                var moved = Turn();
                if (moved > 0)
                {
                    Volatile.Write(ref _batches, _batches + 1);
                    Volatile.Write(ref _frameCount, _frameCount + moved);
                    Volatile.Write(ref _allocated, GC.GetAllocatedBytesForCurrentThread());
                }

                var work = moved > 0 || HasWork();
                DetachFaulted();
                if (!work)
                {
                    Sleep();
                }
            }
        }
        catch (Exception e) when (e is SwitchStalledException)
        {
            Failure = e;
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void ApplyCommands()
    {
        while (_commands.TryDequeue(out var command))
        {
            switch (command)
            {
                case AttachVif a:
                    Attach(a.Vif);
                    break;
                case DetachVif d:
                    Detach(d.Vif);
                    break;
                case AttachUplink u:
                    var bridge = BridgeNamed(u.Uplink.Bridge);
                    u.Uplink.Port = bridge.Add(u.Uplink, u.Uplink.Mtu);
                    _uplinks.Add(u.Uplink);
                    GrowDestinations(bridge);
                    break;
            }

            command.Done.TrySetResult();
        }
    }

    private void Attach(Vif vif)
    {
        var bridge = BridgeNamed(vif.Settings.Bridge);
        vif.Port = bridge.Add(vif);
        vif.Bridge = bridge;
        if (vif.Settings.HasRate)
        {
            vif.RateLimit = new TokenBucket(vif.Settings.RateBytesPerInterval, vif.Settings.RateIntervalUs * 1000, NowNs());
        }

        vif.Attached = true;
        _byPort[vif.TxPort] = vif;
        _byPort[vif.RxPort] = vif;
        GrowDestinations(bridge);
        Activate(vif); // a resumed ring may hold requests queued while we were away
    }

    private void Detach(Vif vif)
    {
        if (!vif.Attached)
        {
            return;
        }

        vif.Attached = false;
        vif.Bridge!.Remove(vif.Port!);
        if (_byPort[vif.TxPort] == vif)
        {
            _byPort[vif.TxPort] = null;
        }

        if (_byPort[vif.RxPort] == vif)
        {
            _byPort[vif.RxPort] = null;
        }

        _active.Remove(vif);
        vif.Active = false;
        while (vif.Backlog.Count > 0)
        {
            vif.Backlog.Dequeue(out var page, out _, out _);
            _backlogFree[_backlogFreeCount++] = page;
        }

        if (vif.Backlog.Listed)
        {
            vif.Backlog.Listed = false;
            _backlogged.Remove(vif);
        }
    }

    private SwitchBridge BridgeNamed(string name)
    {
        if (!_bridges.TryGetValue(name, out var bridge))
        {
            bridge = new SwitchBridge(name);
            _bridges[name] = bridge;
        }

        return bridge;
    }

    private void GrowDestinations(SwitchBridge bridge)
    {
        if (_destinations.Length < bridge.Vifs.Count)
        {
            _destinations = new int[bridge.Vifs.Count * 2];
        }
    }

    private void TakeEvents()
    {
        int n;
        do
        {
            n = _kernel.TakePendingEvents(_ports);
            for (var i = 0; i < n; i++)
            {
                if (_byPort[_ports[i]] is { } vif)
                {
                    Activate(vif);
                }
            }
        }
        while (n == _ports.Length);
    }

    private void Activate(Vif vif)
    {
        if (!vif.Active && vif.Attached)
        {
            vif.Active = true;
            _active.Add(vif);
        }
    }

    /// <summary>
    /// The final check before sleeping (ring.h): a vif leaves the active set only after asking its frontend to
    /// notify at the next request and finding none. A vif held back by its rate limit stays, with a wake time.
    /// </summary>
    private bool HasWork()
    {
        var work = false;
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            var vif = _active[i];
            if (vif.HasHeld)
            {
                continue;
            }

            if (vif.Tx.FinalCheckForRequests())
            {
                work = true;
            }
            else
            {
                CheckFault(vif);
                vif.Active = false;
                _active.RemoveAt(i);
            }
        }

        // A backlog waits for rx buffers: ask each such frontend to notify when it posts some (ring.h final check).
        foreach (var vif in _backlogged)
        {
            if (vif.Rx.FinalCheckForRequests())
            {
                work = true;
            }
        }

        return work; // uplinks: read every turn, and waited on in Sleep
    }

    private void Sleep()
    {
        var timeout = 1000;
        var now = NowNs();
        foreach (var vif in _active)
        {
            if (vif.HasHeld)
            {
                timeout = (int)Math.Clamp((vif.HeldUntilNs - now) / 1_000_000, 0, timeout);
            }
        }

        if (_kernel.PrepareToSleep() || timeout == 0 || !_commands.IsEmpty)
        {
            return;
        }

        var n = 0;
        _pollFds[n++] = _kernel.Doorbell.Fd.Value;
        _pollFds[n++] = _wake.Fd.Value;
        foreach (var u in _uplinks)
        {
            if (n < _pollFds.Length)
            {
                _pollFds[n++] = u.Device.Fd;
            }
        }

        Readiness.WaitAny(_pollFds.AsSpan(0, n), timeout == 1000 ? 1000 : timeout + 1);
        _kernel.Doorbell.TryConsume();
        _wake.TryConsume();
    }
}
