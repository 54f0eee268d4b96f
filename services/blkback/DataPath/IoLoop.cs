using System.Collections.Concurrent;
using Disagg.Service;

namespace Disagg.Blkback.DataPath;

/// <summary>
/// The one thread that serves every connected device's ring (STYLE.md: one event loop per ring set). It takes
/// requests from all rings, moves their data by grant copy in batches, does reads and writes inline (page-cache
/// I/O costs microseconds) and hands flushes, barriers and discards, which wait for the disk, to workers; it
/// alone writes responses. Other threads talk to it through two queues and its doorbell: devices attach and
/// detach (the xenbus side), slow operations complete (workers). Buffer slots and requests are created once.
/// </summary>
internal sealed partial class IoLoop : IDisposable
{
    /// <summary>Idle, the loop sleeps until its doorbell: a request, a completion or a command rings it (no timer wakes an idle host).</summary>
    private static readonly TimeSpan IdleSleep = Timeout.InfiniteTimeSpan;

    private readonly IBackendChannel _channel;
    private readonly Action<VbdRing> _faulted;
    private readonly Action<Exception> _failed;
    private readonly ConcurrentQueue<(VbdRing Device, bool Attach)> _commands = new();
    private readonly ConcurrentQueue<IoRequest> _completions = new();
    private readonly List<VbdRing> _devices = [];
    private readonly IoRequest[] _requests;
    private readonly int[] _free;
    private readonly IoRequest[] _batch;
    private readonly int[] _ports = new int[64];
    private readonly CopyQueue _copies;
    private readonly PendingReads _reads;
    private readonly Thread _thread;
    private int _freeCount;
    private volatile bool _stopping;
    private long _batches;
    private long _requestsTaken;
    private long _allocated;

    /// <param name="faulted">Called on the loop thread when a device's frontend wrote garbage indices; the owner detaches it.</param>
    /// <param name="failed">Called once if the loop itself cannot go on (the kernel stopped copying).</param>
    public IoLoop(IBackendChannel channel, int maxIndirectSegments, Action<VbdRing> faulted, Action<Exception> failed)
    {
        _channel = channel;
        _faulted = faulted;
        _failed = failed;
        MaxIndirectSegments = maxIndirectSegments;
        DataPages = maxIndirectSegments;
        SlotPages = DataPages + ((maxIndirectSegments + Abi.Io.BlkifRequestIndirect.SegmentsPerPage - 1) / Abi.Io.BlkifRequestIndirect.SegmentsPerPage);
        var slots = channel.BufferPages / SlotPages;
        if (slots < 1)
        {
            throw new ArgumentException($"a copy buffer of {channel.BufferPages} pages has no room for one {SlotPages}-page request slot");
        }

        _requests = new IoRequest[slots];
        _free = new int[slots];
        _batch = new IoRequest[slots];
        for (var i = 0; i < slots; i++)
        {
            _requests[i] = new IoRequest(i, i * SlotPages, maxIndirectSegments, this);
            _free[i] = i;
        }

        _freeCount = slots;
        // Worst case per request: every segment straddles a page (two copies) plus its descriptor pages.
        _reads = new PendingReads(slots, MaxGroupRequests);
        _copies = new CopyQueue(channel, Math.Max(256, (2 * maxIndirectSegments) + Abi.Io.BlkifRequestIndirect.MaxIndirectPages));
        _thread = new Thread(Run) { Name = "blkback-io", IsBackground = true };
    }

    public int MaxIndirectSegments { get; }

    /// <summary>Requests that can be in flight at once, over all devices: one per buffer slot.</summary>
    public int Slots => _requests.Length;

    /// <summary>Copy buffer pages per slot: the data of the largest request, then its descriptor pages.</summary>
    public int SlotPages { get; }

    private int DataPages { get; }

    /// <summary>Grant copies performed so far (for the benchmark's per-request cost).</summary>
    public long CopiesSubmitted => _copies.Submitted;

    /// <summary>Turns that took at least one request from a ring (a batch each).</summary>
    public long Batches => Volatile.Read(ref _batches);

    /// <summary>Marked when a turn did anything: the status file is written on change, not on a timer.</summary>
    public Disagg.Service.StatusChanges Changes { get; } = new();

    /// <summary>Requests taken from every ring, refused ones included: with <see cref="Batches"/>, the mean batch size.</summary>
    public long RequestsTaken => Volatile.Read(ref _requestsTaken);

    /// <summary>Bytes the loop thread has allocated since it started, as of its last batch: flat once warm.</summary>
    public long AllocatedBytes => Volatile.Read(ref _allocated);

    public void Start() => _thread.Start();

    /// <summary>Hands a connected device to the loop; it is served from the next turn.</summary>
    public void Attach(VbdRing device)
    {
        _commands.Enqueue((device, true));
        _channel.Doorbell.Ring();
    }

    /// <summary>Stops serving <paramref name="device"/>; completes when no request of it is in flight, so its ring can be unmapped.</summary>
    public Task DetachAsync(VbdRing device)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        device.Detached = done;
        _commands.Enqueue((device, false));
        _channel.Doorbell.Ring();
        return done.Task;
    }

    /// <summary>Worker thread: a slow operation is done.</summary>
    public void Complete(IoRequest request)
    {
        _completions.Enqueue(request);
        _channel.Doorbell.Ring();
    }

    public void Dispose()
    {
        _stopping = true;
        _channel.Doorbell.Ring();
        if (_thread.IsAlive && Environment.CurrentManagedThreadId != _thread.ManagedThreadId)
        {
            _thread.Join();
        }
    }

    private void Run()
    {
        try
        {
            while (!_stopping)
            {
                if (Turn())
                {
                    Changes.Mark();
                    continue;
                }

                if (HasWork())
                {
                    continue;
                }

                if (_reads.Count > 0)
                {
                    AnswerReads(waitForOldest: true); // nothing else to do: the kernel is copying our reads back
                    PushResponses();
                }
                else if (!_channel.PrepareToSleep())
                {
                    _channel.Doorbell.Wait(IdleSleep);
                }
            }
        }

        catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException)
        {
            _failed(e);
        }
    }

    /// <summary>One turn: commands, finished slow operations, then a batch from every ring. True if anything happened.</summary>
    private bool Turn()
    {
        var worked = ApplyCommands();
        worked |= DrainCompletions();
        worked |= AnswerReads(waitForOldest: false);
        while (_channel.TakePendingEvents(_ports) == _ports.Length)
        {
            // events only wake the loop; every serving ring is looked at each turn, so which port rang is not needed
        }

        worked |= ServeBatch();
        PushResponses();
        return worked;
    }

    /// <summary>The final check before sleeping (ring.h): only when every ring says "nothing" may the loop sleep.</summary>
    private bool HasWork()
    {
        if (!_commands.IsEmpty || !_completions.IsEmpty)
        {
            return true;
        }

        if (_freeCount == 0)
        {
            return false; // a completion frees a slot and rings the doorbell
        }

        foreach (var d in _devices)
        {
            if (d.Serving && !d.BarrierBlocked && d.Ring.FinalCheckForRequests())
            {
                return true;
            }
        }

        return false;
    }

    private bool ApplyCommands()
    {
        var any = false;
        while (_commands.TryDequeue(out var c))
        {
            any = true;
            if (c.Attach)
            {
                _devices.Add(c.Device);
            }
            else
            {
                FinishDetachIfIdle(c.Device);
            }
        }

        return any;
    }

    private bool DrainCompletions()
    {
        var any = false;
        while (_completions.TryDequeue(out var r))
        {
            any = true;
            var d = r.Device;
            d.SlowInFlight--;
            Respond(r);
            if (d.HeldBarrier is { } held && d.SlowInFlight == 0)
            {
                d.HeldBarrier = null;
                Dispatch(held);
            }
        }

        return any;
    }

    private void PushResponses()
    {
        foreach (var d in _devices)
        {
            if (d.ResponsesToPush)
            {
                d.ResponsesToPush = false;
                d.Counters.ResponsePushes++;
                if (d.Ring.PushResponses())
                {
                    d.Counters.Notifications++;
                    _channel.Notify(d.Port);
                }
            }
        }

        // Devices that finished detaching during this turn leave the list only after their last push.
        for (var i = _devices.Count - 1; i >= 0; i--)
        {
            var d = _devices[i];
            if (d.Detached is { Task.IsCompleted: false } && d.InFlight == 0)
            {
                _devices.RemoveAt(i);
                d.Detached.TrySetResult();
            }
        }
    }

    private void FinishDetachIfIdle(VbdRing device)
    {
        if (!_devices.Contains(device))
        {
            device.Detached?.TrySetResult(); // never attached, or gone already
        }

        // else: PushResponses removes it once its in-flight requests are answered
    }
}
