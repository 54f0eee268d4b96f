using System.Text;
using Disagg.Abi.Io;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Protocol;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Watches;

/// <summary>XS_WATCH, XS_UNWATCH and XS_RESET_WATCHES (xenstored_watch.c); a guest's watches are journaled, a socket's are not.</summary>
public sealed class WatchRequests
{
    private readonly RequestContext _context;

    public WatchRequests(RequestContext context) => _context = context;

    public XsError Watch(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryWatchArgs(conn, p, out var path, out var token, out var relative, out var raw))
        {
            return XsError.EINVAL;
        }

        var watches = _context.State.Watches;
        if (watches.Contains(conn, path, token))
        {
            return XsError.EEXIST;
        }

        if (!conn.Caller.Privileged && conn.WatchCount >= _context.State.Quota.WatchesPerDomain)
        {
            return XsError.E2BIG;
        }

        var watch = new Watch(conn, path, token, relative);
        watches.Add(watch);
        if (conn.PersistsWatches)
        {
            _context.Log?.WatchAdded(conn.Caller.DomainId, path, token, relative);
        }

        RequestContext.AckUnless(conn, h, XsError.None);
        watches.SendEvent(watch, raw);
        return XsError.None;
    }

    public XsError Unwatch(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryWatchArgs(conn, p, out var path, out var token, out _, out _))
        {
            return XsError.EINVAL;
        }

        if (!_context.State.Watches.Remove(conn, path, token))
        {
            return XsError.ENOENT;
        }

        if (conn.PersistsWatches)
        {
            _context.Log?.WatchRemoved(conn.Caller.DomainId, path, token);
        }

        return RequestContext.AckUnless(conn, h, XsError.None);
    }

    /// <summary>XS_RESET_WATCHES: a client starting over (a kexec'd guest) drops its watches and its transactions.</summary>
    public XsError ResetWatches(XsConnection conn, in XsWireHeader h)
    {
        _context.State.Watches.RemoveAll(conn);
        conn.Transactions.Clear();
        if (conn.PersistsWatches)
        {
            _context.Log?.WatchesReset(conn.Caller.DomainId);
        }

        return RequestContext.AckUnless(conn, h, XsError.None);
    }

    private static bool TryWatchArgs(XsConnection conn, ReadOnlySpan<byte> p, out string path, out string token, out bool relative, out string raw)
    {
        path = token = raw = "";
        relative = false;
        Span<Range> args = stackalloc Range[2];
        if (!XsPayload.TryExactly(p, args))
        {
            return false;
        }

        var rawPath = p[args[0]];
        var canonical = XsPath.TryCanonicalize(rawPath, conn.Caller.DomainId, allowSpecial: true);
        if (canonical is null)
        {
            return false;
        }

        path = canonical;
        relative = rawPath[0] != (byte)'/' && rawPath[0] != (byte)'@';
        raw = Encoding.ASCII.GetString(rawPath);
        token = Encoding.Latin1.GetString(p[args[1]]);
        return true;
    }
}
