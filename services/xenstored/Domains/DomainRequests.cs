using System.Text;
using Disagg.Abi.Io;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Protocol;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Domains;

/// <summary>
/// Domain introduction and release (xenstored_domain.c): XS_INTRODUCE, XS_RELEASE, XS_RESUME, XS_SET_TARGET,
/// XS_IS_DOMAIN_INTRODUCED, XS_GET_DOMAIN_PATH, and the release of a domain the kernel reports gone.
/// </summary>
public sealed class DomainRequests
{
    /// <summary>DOMID_FIRST_RESERVED: ids from here up are Xen's special domains, never introduced.</summary>
    private const ulong FirstReservedDomain = 0x7FF0;

    private readonly RequestContext _context;
    private readonly IDomainConnections? _domains;

    public DomainRequests(RequestContext context, IDomainConnections? domains)
    {
        _context = context;
        _domains = domains;
    }

    public XsError Introduce(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!conn.Caller.Privileged)
        {
            return XsError.EACCES;
        }

        Span<Range> args = stackalloc Range[3];
        if (!XsPayload.TryExactly(p, args) ||
            !XsPayload.TryDecimal(p[args[0]], out var domid) || domid == 0 || domid >= FirstReservedDomain ||
            !XsPayload.TryDecimal(p[args[1]], out var frame) ||
            !XsPayload.TryDecimal(p[args[2]], out var port) || port > uint.MaxValue)
        {
            return XsError.EINVAL;
        }

        var state = _context.State;
        var fresh = !state.Domains.TryGetValue((uint)domid, out var previous);
        // Re-introducing a domain re-binds its ring and event channel (Xen uses it to recover xenbus).
        var domain = new GuestDomain((uint)domid, frame, (uint)port) { Target = previous?.Target };
        if (_domains is not null && !_domains.TryPrepare(domain, out _))
        {
            // The page is not that domain's grant to us, the frame is not the one named, or the port is not
            // offered to us: nothing is recorded, as Xen's xenstored refuses a domain it cannot map. The ring
            // source logs the reason.
            return XsError.EINVAL;
        }

        state.Domains[(uint)domid] = domain;
        _context.Log?.DomainIntroduced(domain);
        _domains?.Attach(domain);
        RequestContext.AckUnless(conn, h, XsError.None);
        if (fresh)
        {
            state.Watches.FireSpecial(XsPath.IntroduceDomain);
        }

        return XsError.None;
    }

    public XsError Release(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!conn.Caller.Privileged)
        {
            return XsError.EACCES;
        }

        if (!TryDomainArg(p, out var domid))
        {
            return XsError.EINVAL;
        }

        if (!_context.State.Domains.ContainsKey(domid))
        {
            return XsError.ENOENT;
        }

        RequestContext.AckUnless(conn, h, XsError.None);
        ReleaseDomain(domid);
        return XsError.None;
    }

    /// <summary>
    /// A domain that is gone from the kernel (dying, or missing from its list after our restart): released as
    /// by XS_RELEASE, journaled, and @releaseDomain fired. Loop thread (or before the loop starts).
    /// </summary>
    public bool ReleaseVanished(uint domid)
    {
        if (!_context.State.Domains.ContainsKey(domid))
        {
            return false;
        }

        ReleaseDomain(domid);
        _context.Log?.EndRequest();
        return true;
    }

    public XsError Resume(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!conn.Caller.Privileged)
        {
            return XsError.EACCES;
        }

        if (!TryDomainArg(p, out var domid))
        {
            return XsError.EINVAL;
        }

        return RequestContext.AckUnless(conn, h, _context.State.Domains.ContainsKey(domid) ? XsError.None : XsError.ENOENT);
    }

    public XsError SetTarget(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!conn.Caller.Privileged)
        {
            return XsError.EACCES;
        }

        Span<Range> args = stackalloc Range[2];
        if (!XsPayload.TryExactly(p, args) ||
            !XsPayload.TryDecimal(p[args[0]], out var domid) || domid >= FirstReservedDomain ||
            !XsPayload.TryDecimal(p[args[1]], out var target) || target >= FirstReservedDomain)
        {
            return XsError.EINVAL;
        }

        if (!_context.State.Domains.TryGetValue((uint)domid, out var domain))
        {
            return XsError.ENOENT;
        }

        domain.Target = (uint)target;
        if (_domains?.Find((uint)domid) is { } guest)
        {
            guest.Caller = guest.Caller with { Target = (uint)target };
        }

        _context.Log?.TargetSet((uint)domid, (uint)target);
        return RequestContext.AckUnless(conn, h, XsError.None);
    }

    public XsError IsDomainIntroduced(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryDomainArg(p, out var domid))
        {
            return XsError.EINVAL;
        }

        var known = domid == 0 || _context.State.Domains.ContainsKey(domid);
        conn.Send(XsMessageType.IsDomainIntroduced, h.ReqId, h.TxId, known ? "T\0"u8 : "F\0"u8);
        return XsError.None;
    }

    public XsError GetDomainPath(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryDomainArg(p, out var domid))
        {
            return XsError.EINVAL;
        }

        var reply = _context.Reply;
        var n = Encoding.ASCII.GetBytes(XsPath.DomainPath(domid), reply);
        reply[n++] = 0;
        conn.Send(XsMessageType.GetDomainPath, h.ReqId, h.TxId, reply.AsSpan(0, n));
        return XsError.None;
    }

    private void ReleaseDomain(uint domid)
    {
        var state = _context.State;
        state.Domains.Remove(domid);
        var guest = _domains?.Find(domid);
        if (guest is not null)
        {
            state.Watches.RemoveAll(guest);
        }

        _domains?.Detach(domid);
        _context.Log?.DomainReleased(domid);
        state.Watches.FireSpecial(XsPath.ReleaseDomain);
    }

    private static bool TryDomainArg(ReadOnlySpan<byte> p, out uint domid)
    {
        domid = 0;
        if (!XsPayload.TryOne(p, out var arg) || !XsPayload.TryDecimal(arg, out var value) || value >= FirstReservedDomain)
        {
            return false;
        }

        domid = (uint)value;
        return true;
    }
}
