using Disagg.Abi.Io;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Protocol;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Permissions;

/// <summary>XS_GET_PERMS and XS_SET_PERMS: a node's permission list on the wire ("b0\0r5\0"), owner first.</summary>
public sealed class PermissionRequests
{
    private readonly RequestContext _context;

    public PermissionRequests(RequestContext context) => _context = context;

    public XsError GetPerms(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!_context.TryReadableNode(conn, h, p, out var node, out var error))
        {
            return error;
        }

        var reply = _context.Reply;
        var n = 0;
        foreach (var perm in node!.Permissions)
        {
            n += perm.Format(reply.AsSpan(n));
            reply[n++] = 0;
        }

        conn.Send(XsMessageType.GetPerms, h.ReqId, h.TxId, reply.AsSpan(0, n));
        return XsError.None;
    }

    public XsError SetPerms(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
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

        if (!_context.TryView(conn, h, out var view, out var error))
        {
            return error;
        }

        return RequestContext.AckUnless(conn, h, StoreOperations.SetPermissions(view, conn.Caller, path, permissions, _context.TriggersFor(view)));
    }
}
