using System.Globalization;
using System.Text;
using Disagg.Abi.Io;
using Disagg.Xenstored.Domains;
using Disagg.Xenstored.Protocol;
using Disagg.Xenstored.Store;
using Disagg.Xenstored.Watches;

namespace Disagg.Xenstored.Core;

/// <summary>Watches, transactions, domain introduction and the control channel.</summary>
public sealed partial class XsRequestProcessor
{
    /// <summary>DOMID_FIRST_RESERVED: ids from here up are Xen's special domains, never introduced.</summary>
    private const ulong FirstReservedDomain = 0x7FF0;

    private XsError WatchRequest(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryWatchArgs(conn, p, out var path, out var token, out var relative, out var raw))
        {
            return XsError.EINVAL;
        }

        if (_state.Watches.Contains(conn, path, token))
        {
            return XsError.EEXIST;
        }

        if (!conn.Caller.Privileged && conn.WatchCount >= _state.Quota.WatchesPerDomain)
        {
            return XsError.E2BIG;
        }

        var watch = new Watch(conn, path, token, relative);
        _state.Watches.Add(watch);
        if (conn.PersistsWatches)
        {
            _log?.WatchAdded(conn.Caller.DomainId, path, token, relative);
        }

        conn.Send(XsMessageType.Watch, h.ReqId, h.TxId, Ok);
        _state.Watches.SendEvent(watch, raw);
        return XsError.None;
    }

    private XsError Unwatch(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryWatchArgs(conn, p, out var path, out var token, out _, out _))
        {
            return XsError.EINVAL;
        }

        if (!_state.Watches.Remove(conn, path, token))
        {
            return XsError.ENOENT;
        }

        if (conn.PersistsWatches)
        {
            _log?.WatchRemoved(conn.Caller.DomainId, path, token);
        }

        return AckUnless(conn, h, XsError.None);
    }

    private XsError ResetWatches(XsConnection conn, in XsWireHeader h)
    {
        _state.Watches.RemoveAll(conn);
        conn.Transactions.Clear();
        if (conn.PersistsWatches)
        {
            _log?.WatchesReset(conn.Caller.DomainId);
        }

        return AckUnless(conn, h, XsError.None);
    }

    private XsError TransactionStart(XsConnection conn, in XsWireHeader h)
    {
        if (h.TxId != 0)
        {
            return XsError.EBUSY; // no nested transactions
        }

        if (!conn.Caller.Privileged && conn.Transactions.Count >= _state.Quota.TransactionsPerDomain)
        {
            return XsError.ENOSPC;
        }

        var id = conn.AllocateTransactionId();
        conn.Transactions.Add(id, new TransactionView(_state.Tree, id));
        id.TryFormat(_reply, out var n, default, CultureInfo.InvariantCulture);
        _reply[n++] = 0;
        conn.Send(XsMessageType.TransactionStart, h.ReqId, h.TxId, _reply.AsSpan(0, n));
        return XsError.None;
    }

    private XsError TransactionEnd(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!XsPayload.TryOne(p, out var arg) || arg.Length != 1 || (arg[0] != (byte)'T' && arg[0] != (byte)'F'))
        {
            return XsError.EINVAL;
        }

        if (!conn.Transactions.Remove(h.TxId, out var tx))
        {
            // A transaction that died with our previous process must be retried, which EAGAIN says.
            return conn.OutlivedRestart ? XsError.EAGAIN : XsError.ENOENT;
        }

        if (arg[0] == (byte)'T')
        {
            if (!tx.CanCommit())
            {
                return XsError.EAGAIN;
            }

            tx.ApplyTo(_state.Tree);
            _triggers.AddRange(tx.PendingTriggers);
        }

        return AckUnless(conn, h, XsError.None);
    }

    private XsError Introduce(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
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

        var fresh = !_state.Domains.TryGetValue((uint)domid, out var previous);
        // Re-introducing a domain re-binds its ring and event channel (Xen uses it to recover xenbus).
        var domain = new GuestDomain((uint)domid, frame, (uint)port) { Target = previous?.Target };
        if (_domains is not null && !_domains.TryPrepare(domain, out var reason))
        {
            // The page is not that domain's grant to us, the frame is not the one named, or the port is not
            // offered to us: nothing is recorded, as Xen's xenstored refuses a domain it cannot map. The ring
            // source logs the reason.
            return XsError.EINVAL;
        }

        _state.Domains[(uint)domid] = domain;
        _log?.DomainIntroduced(domain);
        _domains?.Attach(domain);
        AckUnless(conn, h, XsError.None);
        if (fresh)
        {
            _state.Watches.FireSpecial(XsPath.IntroduceDomain);
        }

        return XsError.None;
    }

    private XsError Release(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!conn.Caller.Privileged)
        {
            return XsError.EACCES;
        }

        if (!TryDomainArg(p, out var domid))
        {
            return XsError.EINVAL;
        }

        if (!_state.Domains.ContainsKey(domid))
        {
            return XsError.ENOENT;
        }

        AckUnless(conn, h, XsError.None);
        ReleaseDomain(domid);
        return XsError.None;
    }

    /// <summary>
    /// A domain that is gone from the kernel (dying, or missing from its list after our restart): released as
    /// by XS_RELEASE, journaled, and @releaseDomain fired. Loop thread (or before the loop starts).
    /// </summary>
    public bool ReleaseVanished(uint domid)
    {
        if (!_state.Domains.ContainsKey(domid))
        {
            return false;
        }

        ReleaseDomain(domid);
        _log?.EndRequest();
        return true;
    }

    private void ReleaseDomain(uint domid)
    {
        _state.Domains.Remove(domid);
        var guest = _domains?.Find(domid);
        if (guest is not null)
        {
            _state.Watches.RemoveAll(guest);
        }

        _domains?.Detach(domid);
        _log?.DomainReleased(domid);
        _state.Watches.FireSpecial(XsPath.ReleaseDomain);
    }

    private XsError Resume(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!conn.Caller.Privileged)
        {
            return XsError.EACCES;
        }

        if (!TryDomainArg(p, out var domid))
        {
            return XsError.EINVAL;
        }

        return AckUnless(conn, h, _state.Domains.ContainsKey(domid) ? XsError.None : XsError.ENOENT);
    }

    private XsError SetTarget(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
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

        if (!_state.Domains.TryGetValue((uint)domid, out var domain))
        {
            return XsError.ENOENT;
        }

        domain.Target = (uint)target;
        if (_domains?.Find((uint)domid) is { } guest)
        {
            guest.Caller = guest.Caller with { Target = (uint)target };
        }

        _log?.TargetSet((uint)domid, (uint)target);
        return AckUnless(conn, h, XsError.None);
    }

    private XsError IsDomainIntroduced(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryDomainArg(p, out var domid))
        {
            return XsError.EINVAL;
        }

        var known = domid == 0 || _state.Domains.ContainsKey(domid);
        conn.Send(XsMessageType.IsDomainIntroduced, h.ReqId, h.TxId, known ? "T\0"u8 : "F\0"u8);
        return XsError.None;
    }

    private XsError GetDomainPath(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!TryDomainArg(p, out var domid))
        {
            return XsError.EINVAL;
        }

        var n = Encoding.ASCII.GetBytes(XsPath.DomainPath(domid), _reply);
        _reply[n++] = 0;
        conn.Send(XsMessageType.GetDomainPath, h.ReqId, h.TxId, _reply.AsSpan(0, n));
        return XsError.None;
    }

    /// <summary>XS_CONTROL (formerly XS_DEBUG): the few commands an operator needs; privileged only.</summary>
    private XsError Control(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!conn.Caller.Privileged)
        {
            return XsError.EACCES;
        }

        if (!XsPayload.TrySplitFirst(p, out var command, out _))
        {
            return XsError.EINVAL;
        }

        string text;
        switch (Encoding.ASCII.GetString(command))
        {
            case "check":
            case "print":
            case "log":
                text = "OK";
                break;
            case "help":
                text = "Available commands:\ncheck\nhelp\nlog\nprint <text>\nquota\nstatus\n";
                break;
            case "quota":
                var q = _state.Quota;
                text = string.Create(CultureInfo.InvariantCulture,
                    $"Quota settings are:\nnodes      {q.EntriesPerDomain}\nnodesize   {q.NodeSize}\nwatches    {q.WatchesPerDomain}\ntransactions {q.TransactionsPerDomain}\noutstanding {q.OutstandingRequests}\n");
                break;
            case "status":
                text = string.Create(CultureInfo.InvariantCulture,
                    $"nodes {_state.Tree.Count}\nwatches {_state.Watches.Count}\ndomains {_state.Domains.Count}\nrequests {Requests}\n");
                break;
            default:
                return XsError.EINVAL;
        }

        var n = Encoding.ASCII.GetBytes(text, _reply);
        _reply[n++] = 0;
        conn.Send(XsMessageType.Control, h.ReqId, h.TxId, _reply.AsSpan(0, n));
        return XsError.None;
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
