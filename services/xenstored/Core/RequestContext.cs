using Disagg.Abi.Io;
using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Protocol;
using Disagg.Xenstored.Store;
using Disagg.Xenstored.Transactions;

namespace Disagg.Xenstored.Core;

/// <summary>
/// What every request handler shares, owned by the event loop thread: the store, the journal, the reply
/// scratch buffer, the watch triggers of the request being handled, and the rule naming the view a request
/// works on (the live tree, or one of the asker's transactions).
/// </summary>
public sealed class RequestContext
{
    private static readonly byte[] Ok = "OK\0"u8.ToArray();

    public RequestContext(XenstoreState state, IDurableLog? log)
    {
        State = state;
        Log = log;
    }

    public XenstoreState State { get; }

    public IDurableLog? Log { get; }

    /// <summary>Scratch for building one reply; single-threaded, reused by every request.</summary>
    public byte[] Reply { get; } = new byte[XsWireHeader.MaxPayload + 64];

    /// <summary>Changes made outside a transaction by the current request; fired after its reply.</summary>
    public List<WatchTrigger> Triggers { get; } = [];

    /// <summary>Replies "OK" to the request unless it failed; the error goes back to the dispatcher either way.</summary>
    public static XsError AckUnless(XsConnection conn, in XsWireHeader h, XsError error)
    {
        if (error == XsError.None)
        {
            conn.Send((XsMessageType)h.Type, h.ReqId, h.TxId, Ok);
        }

        return error;
    }

    /// <summary>The view a node request works on: the live tree, or the named transaction's.</summary>
    public bool TryView(XsConnection conn, in XsWireHeader h, out IStoreView view, out XsError error)
    {
        error = XsError.None;
        if (h.TxId == 0)
        {
            view = State.Tree;
            return true;
        }

        if (conn.Transactions.TryGetValue(h.TxId, out var tx))
        {
            view = tx;
            if (!conn.Caller.Privileged && tx.AccessedNodes >= State.Quota.NodesPerTransaction)
            {
                // Xen 4.17's quota_trans_nodes: a transaction may not grow without bound in our memory.
                error = XsError.ENOSPC;
                return false;
            }

            return true;
        }

        view = State.Tree;
        // A transaction that died with our previous process must be retried, which EAGAIN says.
        error = conn.OutlivedRestart ? XsError.EAGAIN : XsError.ENOENT;
        return false;
    }

    /// <summary>A request whose whole payload is one path: the path, canonical, and the view it is read in.</summary>
    public bool TryNodeView(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p, out IStoreView view, out string path, out XsError error)
    {
        path = "";
        view = State.Tree;
        if (!XsPayload.TryOne(p, out var raw))
        {
            error = XsError.EINVAL;
            return false;
        }

        var canonical = XsPath.TryCanonicalize(raw, conn.Caller.DomainId, allowSpecial: false);
        if (canonical is null)
        {
            error = XsError.EINVAL;
            return false;
        }

        path = canonical;
        return TryView(conn, h, out view, out error);
    }

    /// <summary>A request whose payload is one path to a node the caller may read (read, directory, get-perms): the node, or the error.</summary>
    public bool TryReadableNode(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p, out Node? node, out XsError error)
    {
        node = null;
        if (!TryNodeView(conn, h, p, out var view, out var path, out error))
        {
            return false;
        }

        error = StoreOperations.Lookup(view, conn.Caller, path, XsAccess.Read, out node);
        return error == XsError.None;
    }

    /// <summary>Changes outside a transaction fire after the reply; inside one, at its commit.</summary>
    public List<WatchTrigger> TriggersFor(IStoreView view) => view is TransactionView tx ? tx.PendingTriggers : Triggers;
}
