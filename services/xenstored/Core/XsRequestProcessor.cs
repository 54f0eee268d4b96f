using System.Globalization;
using System.Text;
using Disagg.Abi.Io;
using Disagg.Xenstored.Protocol;
using Disagg.Xenstored.Store;
using Disagg.Xenstored.Watches;

namespace Disagg.Xenstored.Core;

/// <summary>
/// Turns one xs_wire request into its reply (and the watch events it causes), whatever transport
/// carried it. Node requests are here; domain and session requests in the other part of this class.
/// Every error is a Xen error reply to the asker; nothing a client sends throws.
/// </summary>
public sealed partial class XsRequestProcessor
{
    private static readonly byte[] Ok = "OK\0"u8.ToArray();
    private readonly XenstoreState _state;
    private readonly IDurableLog? _log;
    private readonly IDomainConnections? _domains;
    private readonly List<WatchTrigger> _triggers = [];
    private readonly byte[] _reply = new byte[XsWireHeader.MaxPayload + 64];

    public XsRequestProcessor(XenstoreState state, IDurableLog? log, IDomainConnections? domains)
    {
        _state = state;
        _log = log;
        _domains = domains;
        if (log is not null)
        {
            state.Tree.Journal = log;
        }
    }

    public long Requests { get; private set; }

    public long Errors { get; private set; }

    public void Handle(XsConnection conn, in XsWireHeader header, ReadOnlySpan<byte> payload)
    {
        Requests++;
        _triggers.Clear();
        var error = Dispatch(conn, header, payload);
        if (error != XsError.None)
        {
            Errors++;
            conn.Send(XsMessageType.Error, header.ReqId, header.TxId, XsErrorNames.Payload(error));
        }

        // Watch events follow the reply, as in Xen (a client waiting for its ack sees the ack first).
        foreach (var t in _triggers)
        {
            _state.Watches.Fire(t);
        }

        _log?.EndRequest();
    }

    private XsError Dispatch(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        switch ((XsMessageType)h.Type)
        {
            case XsMessageType.Read: return Read(conn, h, p);
            case XsMessageType.Write: return Write(conn, h, p);
            case XsMessageType.Mkdir: return Mkdir(conn, h, p);
            case XsMessageType.Rm: return Rm(conn, h, p);
            case XsMessageType.Directory: return Directory(conn, h, p);
            case XsMessageType.DirectoryPart: return DirectoryPart(conn, h, p);
            case XsMessageType.GetPerms: return GetPerms(conn, h, p);
            case XsMessageType.SetPerms: return SetPerms(conn, h, p);
            case XsMessageType.Watch: return WatchRequest(conn, h, p);
            case XsMessageType.Unwatch: return Unwatch(conn, h, p);
            case XsMessageType.ResetWatches: return ResetWatches(conn, h);
            case XsMessageType.TransactionStart: return TransactionStart(conn, h);
            case XsMessageType.TransactionEnd: return TransactionEnd(conn, h, p);
            case XsMessageType.Introduce: return Introduce(conn, h, p);
            case XsMessageType.Release: return Release(conn, h, p);
            case XsMessageType.Resume: return Resume(conn, h, p);
            case XsMessageType.SetTarget: return SetTarget(conn, h, p);
            case XsMessageType.IsDomainIntroduced: return IsDomainIntroduced(conn, h, p);
            case XsMessageType.GetDomainPath: return GetDomainPath(conn, h, p);
            case XsMessageType.Control: return Control(conn, h, p);
            default: return XsError.EINVAL; // WATCH_EVENT and ERROR are ours to send; 20 is obsolete; the rest unknown
        }
    }

    private XsError Read(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryNodeView(conn, h, p, out var view, out var path, out var error))
        {
            return error;
        }

        error = StoreOperations.Lookup(view, conn.Caller, path, XsAccess.Read, out var node);
        if (error == XsError.None)
        {
            conn.Send(XsMessageType.Read, h.ReqId, h.TxId, node!.Value);
        }

        return error;
    }

    private XsError Write(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!XsPayload.TrySplitFirst(p, out var rawPath, out var value))
        {
            return XsError.EINVAL;
        }

        var path = XsPath.TryCanonicalize(rawPath, conn.Caller.DomainId, allowSpecial: false);
        if (path is null)
        {
            return XsError.EINVAL;
        }

        if (!TryView(conn, h, out var view, out var error))
        {
            return error;
        }

        error = StoreOperations.Write(view, conn.Caller, _state.Quota, path, value.ToArray(), TriggersFor(view));
        return AckUnless(conn, h, error);
    }

    private XsError Mkdir(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryNodeView(conn, h, p, out var view, out var path, out var error))
        {
            return error;
        }

        return AckUnless(conn, h, StoreOperations.Mkdir(view, conn.Caller, _state.Quota, path, TriggersFor(view)));
    }

    private XsError Rm(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryNodeView(conn, h, p, out var view, out var path, out var error))
        {
            return error;
        }

        return AckUnless(conn, h, StoreOperations.Remove(view, conn.Caller, path, TriggersFor(view)));
    }

    private XsError Directory(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryNodeView(conn, h, p, out var view, out var path, out var error))
        {
            return error;
        }

        error = StoreOperations.Lookup(view, conn.Caller, path, XsAccess.Read, out var node);
        if (error != XsError.None)
        {
            return error;
        }

        var n = 0;
        foreach (var child in node!.Children)
        {
            if (n + child.Length + 1 > XsWireHeader.MaxPayload)
            {
                return XsError.E2BIG; // the client should use XS_DIRECTORY_PART
            }

            n += Encoding.ASCII.GetBytes(child, _reply.AsSpan(n));
            _reply[n++] = 0;
        }

        conn.Send(XsMessageType.Directory, h.ReqId, h.TxId, _reply.AsSpan(0, n));
        return XsError.None;
    }

    /// <summary>
    /// A window of a long child list: "generation\0" then whole names from byte offset, with an
    /// extra NUL once the list is complete. The generation lets the client notice a change between calls.
    /// </summary>
    private XsError DirectoryPart(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        Span<Range> args = stackalloc Range[2];
        if (!XsPayload.TryExactly(p, args) || !XsPayload.TryDecimal(p[args[1]], out var offset))
        {
            return XsError.EINVAL;
        }

        var path = XsPath.TryCanonicalize(p[args[0]], conn.Caller.DomainId, allowSpecial: false);
        if (path is null)
        {
            return XsError.EINVAL;
        }

        if (!TryView(conn, h, out var view, out var error))
        {
            return error;
        }

        error = StoreOperations.Lookup(view, conn.Caller, path, XsAccess.Read, out var node);
        if (error != XsError.None)
        {
            return error;
        }

        node!.Generation.TryFormat(_reply, out var n, "x", CultureInfo.InvariantCulture);
        _reply[n++] = 0;
        long position = 0;
        var complete = true;
        foreach (var child in node.Children)
        {
            var size = child.Length + 1;
            if (position >= (long)offset)
            {
                if (n + size > XsWireHeader.MaxPayload - 1)
                {
                    complete = false;
                    break;
                }

                n += Encoding.ASCII.GetBytes(child, _reply.AsSpan(n));
                _reply[n++] = 0;
            }

            position += size;
        }

        if (complete)
        {
            _reply[n++] = 0;
        }

        conn.Send(XsMessageType.DirectoryPart, h.ReqId, h.TxId, _reply.AsSpan(0, n));
        return XsError.None;
    }

    private XsError GetPerms(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryNodeView(conn, h, p, out var view, out var path, out var error))
        {
            return error;
        }

        error = StoreOperations.Lookup(view, conn.Caller, path, XsAccess.Read, out var node);
        if (error != XsError.None)
        {
            return error;
        }

        var n = 0;
        foreach (var perm in node!.Permissions)
        {
            n += perm.Format(_reply.AsSpan(n));
            _reply[n++] = 0;
        }

        conn.Send(XsMessageType.GetPerms, h.ReqId, h.TxId, _reply.AsSpan(0, n));
        return XsError.None;
    }

    private XsError SetPerms(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (p.IsEmpty || p[^1] != 0 || !XsPayload.TrySplitFirst(p, out var rawPath, out var rest) || rest.IsEmpty)
        {
            return XsError.EINVAL;
        }

        var path = XsPath.TryCanonicalize(rawPath, conn.Caller.DomainId, allowSpecial: false);
        if (path is null)
        {
            return XsError.EINVAL;
        }

        var count = rest.Count((byte)0);
        var permissions = new XsPermission[count];
        for (var i = 0; i < count; i++)
        {
            var nul = rest.IndexOf((byte)0);
            if (!XsPermission.TryParse(rest[..nul], out permissions[i]))
            {
                return XsError.EINVAL;
            }

            rest = rest[(nul + 1)..];
        }

        if (!TryView(conn, h, out var view, out var error))
        {
            return error;
        }

        return AckUnless(conn, h, StoreOperations.SetPermissions(view, conn.Caller, path, permissions, TriggersFor(view)));
    }

    private XsError AckUnless(XsConnection conn, in XsWireHeader h, XsError error)
    {
        if (error == XsError.None)
        {
            conn.Send((XsMessageType)h.Type, h.ReqId, h.TxId, Ok);
        }

        return error;
    }

    /// <summary>The view a node request works on: the live tree, or the named transaction's.</summary>
    private bool TryView(XsConnection conn, in XsWireHeader h, out IStoreView view, out XsError error)
    {
        error = XsError.None;
        if (h.TxId == 0)
        {
            view = _state.Tree;
            return true;
        }

        if (conn.Transactions.TryGetValue(h.TxId, out var tx))
        {
            view = tx;
            if (!conn.Caller.Privileged && tx.AccessedNodes >= _state.Quota.NodesPerTransaction)
            {
                // Xen 4.17's quota_trans_nodes: a transaction may not grow without bound in our memory.
                error = XsError.ENOSPC;
                return false;
            }

            return true;
        }

        view = _state.Tree;
        error = conn.OutlivedRestart ? XsError.EAGAIN : XsError.ENOENT;
        return false;
    }

    private bool TryNodeView(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p, out IStoreView view, out string path, out XsError error)
    {
        path = "";
        view = _state.Tree;
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

    /// <summary>Changes outside a transaction fire after the reply; inside one, at its commit.</summary>
    private List<WatchTrigger> TriggersFor(IStoreView view) => view is TransactionView tx ? tx.PendingTriggers : _triggers;
}
