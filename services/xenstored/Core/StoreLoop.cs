using System.Buffers;
using System.Buffers.Binary;
using System.Threading.Channels;
using Disagg.Abi.Io;
using Disagg.Xenstored.Durability;

namespace Disagg.Xenstored.Core;

/// <summary>
/// The one thread that owns the store. It takes everything queued (up to a batch), processes it
/// in order, makes the batch's journal records durable with one fdatasync (group commit), and only
/// then sends the batch's replies and watch events. No locks: transports only enqueue.
/// </summary>
public sealed class StoreLoop
{
    private const int MaxBatch = 512;
    private readonly Channel<LoopInput> _inputs = Channel.CreateUnbounded<LoopInput>(new UnboundedChannelOptions { SingleReader = true });
    private readonly XenstoreState _state;
    private readonly Journal? _journal;
    private readonly string? _stateDirectory;
    private readonly long _compactAt;
    private readonly List<XsConnection> _flush = [];
    private readonly Thread _thread;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

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

    /// <summary>Set when the loop died of our own broken invariant (the process must stop loudly).</summary>
    public Exception? Fault { get; private set; }

    public Task Completion => _done.Task;

    public void Start() => _thread.Start();

    public void Post(in LoopInput input) => _inputs.Writer.TryWrite(input);

    public void Invoke(Action action) => Post(new LoopInput(LoopInputKind.Invoke, null, null, 0, action));

    public void Stop() => _inputs.Writer.TryComplete();

    /// <summary>Registers a connection so its output is flushed by this loop.</summary>
    public void Adopt(XsConnection connection) => connection.FlushQueue = _flush;

    private void Run()
    {
        try
        {
            var reader = _inputs.Reader;
            while (true)
            {
                if (!reader.TryRead(out var item))
                {
                    if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                    {
                        break;
                    }

                    continue;
                }

                var n = 0;
                do
                {
                    Handle(item);
                }
                while (++n < MaxBatch && reader.TryRead(out item));

                EndBatch();
            }

            _done.TrySetResult();
        }
        catch (Exception e)
        {
            Fault = e;
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

    /// <summary>A connection that is gone: its transactions die, and so do its watches unless a guest owns them.</summary>
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
        _journal?.Sync();
        // Replies only now: everything they acknowledge is on disk.
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
