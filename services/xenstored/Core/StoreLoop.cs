using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using Disagg.Abi.Io;
using Disagg.Xenstored.Durability;

namespace Disagg.Xenstored.Core;

/// <summary>
/// The store's one owner at a time. Whoever runs it takes everything queued (up to a batch), processes it in
/// order, writes the batch's journal records with one write(2) (group commit; the disk follows on the
/// journal's flusher thread), and only then sends the batch's replies and watch events. No locks: an ownership flag passes the store between threads.
/// A socket's receive thread runs the store itself when nobody else is (<see cref="PostAndRun"/>), so a request
/// costs one thread wake-up, as an echo over the same socket does — measured: the hop through a dedicated loop
/// thread halved read throughput. Rings, timers and rare work post to the loop thread (<see cref="Post"/>),
/// which runs the store the same way. Whoever finds work queued after letting go takes the store back, so
/// nothing posted is left behind.
/// </summary>
public sealed class StoreLoop
{
    private const int MaxBatch = 512;
    // Lock-free: every socket client's receive thread enqueues here, per request (a Channel takes a lock per write and read).
    private readonly ConcurrentQueue<LoopInput> _inputs = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly XenstoreState _state;
    private readonly Journal? _journal;
    private readonly string? _stateDirectory;
    private readonly long _compactAt;
    private readonly List<XsConnection> _flush = [];
    private readonly Thread _thread;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _owned;
    private volatile bool _stopping;
    private volatile bool _completed;
    private volatile bool _closed;

    public StoreLoop(XenstoreState state, Journal? journal, string? stateDirectory, long compactAt)
    {
        _state = state;
        _journal = journal;
        _stateDirectory = stateDirectory;
        _compactAt = compactAt;
        _thread = new Thread(Run) { Name = "xenstored-loop", IsBackground = true };
    }

    public List<XsConnection> FlushQueue => _flush;

    /// <summary>Set once before <see cref="Start"/> (it needs the loop's connections, so it comes after the loop).</summary>
    public XsRequestProcessor? Processor { get; set; }

    public long Batches { get; private set; }

    public long Compactions { get; private set; }

    /// <summary>Set when the store died of our own broken invariant (the process must stop loudly).</summary>
    public Exception? Fault { get; private set; }

    public Task Completion => _done.Task;

    public void Start() => _thread.Start();

    /// <summary>Queues work for the loop thread.</summary>
    public void Post(in LoopInput input)
    {
        if (!_completed)
        {
            _inputs.Enqueue(input);
            _wake.Release();
        }
    }

    /// <summary>Queues work and runs the store on this thread if nobody is (a socket's receive thread).</summary>
    public void PostAndRun(in LoopInput input)
    {
        if (!_completed)
        {
            _inputs.Enqueue(input);
            RunIfIdle();
        }
    }

    public void Invoke(Action action) => Post(new LoopInput(LoopInputKind.Invoke, null, null, 0, action));

    /// <summary>Takes nothing new; what is queued is still processed, then <see cref="Completion"/> completes.</summary>
    public void Stop()
    {
        _stopping = true;
        _completed = true;
        _wake.Release();
    }

    /// <summary>Registers a connection so its output is flushed by this loop.</summary>
    public void Adopt(XsConnection connection) => connection.FlushQueue = _flush;

    private void Run()
    {
        while (!_stopping)
        {
            _wake.Wait();
            RunIfIdle();
        }

        // The last owner may be another thread: wait our turn, take what is left, and close the store.
        var spin = default(SpinWait);
        while (Interlocked.CompareExchange(ref _owned, 1, 0) != 0)
        {
            spin.SpinOnce();
        }

        if (!_closed)
        {
            Drain();
            _closed = true;
        }

        Volatile.Write(ref _owned, 0);
        if (Fault is null)
        {
            _done.TrySetResult();
        }
    }

    private void RunIfIdle()
    {
        while (Interlocked.CompareExchange(ref _owned, 1, 0) == 0)
        {
            if (!_closed)
            {
                Drain();
            }

            Volatile.Write(ref _owned, 0);
            // Work posted between our last look and letting go would otherwise wait for the next post.
            if (_closed || _inputs.IsEmpty)
            {
                return;
            }
        }
    }

    /// <summary>Batches until the queue is empty. Owner only.</summary>
    private void Drain()
    {
        try
        {
            while (_inputs.TryDequeue(out var item))
            {
                var n = 0;
                do
                {
                    Handle(item);
                }
                while (++n < MaxBatch && _inputs.TryDequeue(out item));

                EndBatch();
            }
        }
        catch (Exception e)
        {
            // Our own broken invariant: nothing more is served, and the host stops us (the supervisor restarts us from the journal).
            Fault = e;
            _closed = true;
            _done.TrySetException(e);
        }
    }

    private void Handle(in LoopInput item)
    {
        var conn = item.Connection;
        switch (item.Kind)
        {
            case LoopInputKind.Request:
                try
                {
                    if (!conn!.IsClosed)
                    {
                        var header = new XsWireHeader
                        {
                            Type = BinaryPrimitives.ReadUInt32LittleEndian(item.Buffer),
                            ReqId = BinaryPrimitives.ReadUInt32LittleEndian(item.Buffer.AsSpan(4)),
                            TxId = BinaryPrimitives.ReadUInt32LittleEndian(item.Buffer.AsSpan(8)),
                            Len = BinaryPrimitives.ReadUInt32LittleEndian(item.Buffer.AsSpan(12)),
                        };
                        Processor!.Handle(conn, header, item.Buffer.AsSpan(16, item.Length - 16));
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(item.Buffer!);
                    (conn as IRequestCredit)?.RequestDone();
                }

                break;
            case LoopInputKind.Closed:
                Drop(conn!);
                break;
            case LoopInputKind.Kick:
                (conn as IRingService)?.Service(Processor!);
                break;
            case LoopInputKind.Invoke:
                item.Action!();
                break;
        }
    }

    /// <summary>A connection that is gone: its transactions die, and so do its watches unless a guest owns them. Owner only.</summary>
    public void Drop(XsConnection conn)
    {
        if (conn.IsClosed)
        {
            return;
        }

        if (!conn.PersistsWatches)
        {
            _state.Watches.RemoveAll(conn);
        }

        conn.Transactions.Clear();
        conn.Close();
    }

    private void EndBatch()
    {
        Batches++;
        _journal?.Write();
        // Replies only now: everything they acknowledge survives our death (Journal, JournalFlusher).
        for (var i = 0; i < _flush.Count; i++)
        {
            var c = _flush[i];
            c.NeedsFlush = false;
            c.Flush();
        }

        _flush.Clear();
        if (_journal is not null && _stateDirectory is not null && _journal.Length > _compactAt)
        {
            Snapshot.Write(_stateDirectory, _state, _journal.Sequence);
            _journal.Truncate();
            Compactions++;
        }
    }
}
