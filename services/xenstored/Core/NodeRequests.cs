using System.Globalization;
using System.Text;
using Disagg.Abi.Io;
using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Protocol;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Core;

/// <summary>
/// The node requests (xenstored_core.c's read, write, mkdir, rm, directory, directory-part), in the live
/// tree or in the asker's transaction. Every error is a Xen error reply; nothing a client sends throws.
/// </summary>
public sealed class NodeRequests
{
    private readonly RequestContext _context;

    public NodeRequests(RequestContext context) => _context = context;

    public XsError Read(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!_context.TryReadableNode(conn, h, p, out var node, out var error))
        {
            return error;
        }

        conn.Send(XsMessageType.Read, h.ReqId, h.TxId, node!.Value);
        return XsError.None;
    }

    public XsError Write(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
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

        if (!_context.TryView(conn, h, out var view, out var error))
        {
            return error;
        }

        error = StoreOperations.Write(view, conn.Caller, _context.State.Quota, path, value.ToArray(), _context.TriggersFor(view));
        return RequestContext.AckUnless(conn, h, error);
    }

    public XsError Mkdir(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!_context.TryNodeView(conn, h, p, out var view, out var path, out var error))
        {
            return error;
        }

        return RequestContext.AckUnless(conn, h, StoreOperations.Mkdir(view, conn.Caller, _context.State.Quota, path, _context.TriggersFor(view)));
    }

    public XsError Rm(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!_context.TryNodeView(conn, h, p, out var view, out var path, out var error))
        {
            return error;
        }

        return RequestContext.AckUnless(conn, h, StoreOperations.Remove(view, conn.Caller, path, _context.TriggersFor(view)));
    }

    public XsError Directory(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!_context.TryReadableNode(conn, h, p, out var node, out var error))
        {
            return error;
        }

        var reply = _context.Reply;
        var n = 0;
        foreach (var child in node!.Children)
        {
            if (n + child.Length + 1 > XsWireHeader.MaxPayload)
            {
                return XsError.E2BIG; // the client should use XS_DIRECTORY_PART
            }

            n += Encoding.ASCII.GetBytes(child, reply.AsSpan(n));
            reply[n++] = 0;
        }

        conn.Send(XsMessageType.Directory, h.ReqId, h.TxId, reply.AsSpan(0, n));
        return XsError.None;
    }

    /// <summary>
    /// A window of a long child list: "generation\0" then whole names from byte offset, with an
    /// extra NUL once the list is complete. The generation lets the client notice a change between calls.
    /// </summary>
    public XsError DirectoryPart(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
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

        if (!_context.TryView(conn, h, out var view, out var error))
        {
            return error;
        }

        error = StoreOperations.Lookup(view, conn.Caller, path, XsAccess.Read, out var node);
        if (error != XsError.None)
        {
            return error;
        }

        var reply = _context.Reply;
        node!.Generation.TryFormat(reply, out var n, "x", CultureInfo.InvariantCulture);
        reply[n++] = 0;
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

                n += Encoding.ASCII.GetBytes(child, reply.AsSpan(n));
                reply[n++] = 0;
            }

            position += size;
        }

        if (complete)
        {
            reply[n++] = 0;
        }

        conn.Send(XsMessageType.DirectoryPart, h.ReqId, h.TxId, reply.AsSpan(0, n));
        return XsError.None;
    }
}
