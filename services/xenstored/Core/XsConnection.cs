using System.Buffers.Binary;
using Disagg.Abi.Io;
using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Store;
using Disagg.Xenstored.Transactions;

namespace Disagg.Xenstored.Core;

/// <summary>
/// One client of the store, whatever carries its bytes (a Unix socket, a guest's ring page): who it
/// is, its open transactions, and the replies and watch events queued for it. Touched only by the
/// event loop thread.
/// </summary>
public abstract class XsConnection
{
    private uint _nextTransactionId = 1;

    protected XsConnection(XsCaller caller, string name)
    {
        Caller = caller;
        Name = name;
    }

    public XsCaller Caller { get; set; }

    /// <summary>For logs: "socket#3", "domain 5".</summary>
    public string Name { get; }

    public Dictionary<uint, TransactionView> Transactions { get; } = [];

    public int WatchCount { get; set; }

    /// <summary>True for a guest ring that outlived a restart: transactions it names from before are gone, and their use gets EAGAIN.</summary>
    public bool OutlivedRestart { get; set; }

    public bool IsClosed { get; private set; }

    /// <summary>Watches of guests survive a restart (the guest cannot re-register); a socket's die with it, as in Xen.</summary>
    public abstract bool PersistsWatches { get; }

    public OutputQueue Output { get; } = new();

    /// <summary>Set when output was queued since the last flush.</summary>
    public bool NeedsFlush { get; set; }

    /// <summary>Where the event loop collects connections with output to send after the batch's journal sync.</summary>
    public List<XsConnection>? FlushQueue { get; set; }

    public uint AllocateTransactionId()
    {
        while (_nextTransactionId == 0 || Transactions.ContainsKey(_nextTransactionId))
        {
            _nextTransactionId++;
        }

        return _nextTransactionId++;
    }

    /// <summary>Queues one message (header + payload); it leaves after the batch's journal is on disk.</summary>
    public void Send(XsMessageType type, uint requestId, uint transactionId, ReadOnlySpan<byte> payload)
    {
        if (IsClosed)
        {
            return;
        }

        var length = 16 + payload.Length;
        var span = Output.Reserve(length);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)type);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], requestId);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], transactionId);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], (uint)payload.Length);
        payload.CopyTo(span[16..]);
        Output.CommitMessage(length);
        if (!NeedsFlush)
        {
            NeedsFlush = true;
            FlushQueue?.Add(this);
        }
    }

    /// <summary>Pushes queued output to the peer as far as it can take it now. Loop thread only.</summary>
    public abstract void Flush();

    /// <summary>Stops serving this peer; the loop removes its watches and transactions.</summary>
    public virtual void Close()
    {
        IsClosed = true;
        Output.Clear();
    }
}
