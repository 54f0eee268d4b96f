using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Disagg.Interop;
using Disagg.Service;

namespace Disagg.Netback.DataPath;

/// <summary>
/// The one switching thread: it owns every vif's rings, every bridge and port, and the copy buffer, through
/// types that each own their part: <see cref="SwitchPorts"/> (bridges, ports, the active set, faults),
/// <see cref="SwitchTurn"/> (one batch: gather, copy in, switch), <see cref="RxCopies"/> (copies out, with the
/// <see cref="RxBacklogPool"/>), <see cref="UplinkGathering"/> (TAP frames) and <see cref="ResponseSet"/>
/// (publishing, one notification per ring at most). This type is the loop: commands from the xenbus side
/// (<see cref="Submit"/>, applied between batches), turns, the final check and the sleep on the event doorbell.
/// Nothing on this path allocates or takes a lock.
/// </summary>
public sealed class SwitchLoop : IDisposable
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

    private readonly IBackendChannel _kernel;
    private readonly ConcurrentQueue<SwitchCommand> _commands = new();
    private readonly Doorbell _wake = new();
    private readonly Channel<Vif> _faults = Channel.CreateUnbounded<Vif>();
    private readonly int[] _pollFds = new int[Readiness.MaxDescriptors];
    private readonly SwitchPorts _ports;
    private readonly UplinkGathering _uplinks;
    private readonly SwitchTurn _turn;
    private long _batches;
    private long _frameCount;
    private long _allocated;
    private volatile bool _stop;
    private bool _forwarding = true;
    private Thread? _thread;

    public SwitchLoop(IBackendChannel kernel)
    {
        if (kernel.BufferPages < MaxBatch)
        {
            throw new ArgumentException($"the copy buffer has {kernel.BufferPages} pages; the switch needs {MaxBatch}", nameof(kernel));
        }

        _kernel = kernel;
        // The backlog pool is whatever the buffer has past the batch's pages, up to RxBacklogPages (none: drop at once).
        var backlog = new RxBacklogPool(kernel, MaxBatch, Math.Min(RxBacklogPages, kernel.BufferPages - MaxBatch));
        var responses = new ResponseSet(kernel);
        _ports = new SwitchPorts(backlog);
        _uplinks = new UplinkGathering(kernel);
        _turn = new SwitchTurn(kernel, _ports, _uplinks, new RxCopies(kernel, backlog, responses, _ports), responses);
    }

    /// <summary>Turns that moved at least one frame (a batch each).</summary>
    public long Batches => Volatile.Read(ref _batches);

    /// <summary>Marked when counters or ports change: the status file is written on change, not on a timer.</summary>
    public Disagg.Service.StatusChanges Changes { get; } = new();

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

    /// <summary>
    /// Before <see cref="Start"/>: apply commands but switch nothing until <see cref="StartForwarding"/>. A restarted
    /// netback attaches its vifs one by one; the first one's resumed tx ring may hold frames queued while we were
    /// away, and switched at once they would be flooded to a bridge whose other vifs are not attached yet, and
    /// dropped (issue 15: about one ping lost per netback kill, always the first vif's).
    /// </summary>
    public void HoldForwarding() => _forwarding = false;

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

    internal static long NowNs() => Stopwatch.GetTimestamp() * (1_000_000_000L / Stopwatch.Frequency);

    private void Run()
    {
        try
        {
            while (!_stop)
            {
                ApplyCommands();
                if (!_forwarding)
                {
                    WaitForCommand();
                    continue;
                }

                _ports.TakeEvents(_kernel);
                var moved = _turn.Run();
                if (moved > 0)
                {
                    Changes.Mark();
                    Volatile.Write(ref _batches, _batches + 1);
                    Volatile.Write(ref _frameCount, _frameCount + moved);
                    Volatile.Write(ref _allocated, GC.GetAllocatedBytesForCurrentThread());
                }

                var work = moved > 0 || _ports.FinalCheck();
                _ports.DetachFaulted(_faults.Writer);
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
            Changes.Mark();
            switch (command)
            {
                case AttachVif a:
                    _ports.Attach(a.Vif, NowNs());
                    break;
                case DetachVif d:
                    _ports.Detach(d.Vif);
                    break;
                case AttachUplink u:
                    _ports.AttachUplink(u.Uplink);
                    _uplinks.Add(u.Uplink);
                    break;
                case StartForwarding:
                    _forwarding = true;
                    break;
            }

            command.Done.TrySetResult();
        }
    }

    /// <summary>While forwarding is held: asleep until the next command (events stay pending in the event page).</summary>
    private void WaitForCommand()
    {
        if (!_commands.IsEmpty || _stop)
        {
            return;
        }

        _pollFds[0] = _wake.Fd.Value;
        Readiness.WaitAny(_pollFds.AsSpan(0, 1), -1);
        _wake.TryConsume();
    }

    private void Sleep()
    {
        // Asleep until a doorbell, a command or an uplink frame; a timeout only when a held frame has a deadline.
        var timeout = int.MaxValue;
        var now = NowNs();
        foreach (var vif in _ports.Active)
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
        n = _uplinks.AddPollDescriptors(_pollFds, n);

        Readiness.WaitAny(_pollFds.AsSpan(0, n), timeout == int.MaxValue ? -1 : timeout + 1);
        _kernel.Doorbell.TryConsume();
        _wake.TryConsume();
    }
}
