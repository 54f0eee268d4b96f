using Disagg.Abi.Io;
using Disagg.Xenstored.Control;
using Disagg.Xenstored.Domains;
using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Protocol;
using Disagg.Xenstored.Transactions;
using Disagg.Xenstored.Watches;

namespace Disagg.Xenstored.Core;

/// <summary>
/// Turns one xs_wire request into its reply (and the watch events it causes), whatever transport carried
/// it: routes each request type to the folder that owns its concern, as Xen's tools/xenstored splits core,
/// domain, transaction, watch, permissions and control. Every error is a Xen error reply to the asker.
/// </summary>
public sealed class XsRequestProcessor
{
    private readonly RequestContext _context;
    private readonly NodeRequests _nodes;
    private readonly PermissionRequests _permissions;
    private readonly WatchRequests _watches;
    private readonly TransactionRequests _transactions;
    private readonly DomainRequests _domains;
    private readonly ControlRequests _control;

    public XsRequestProcessor(XenstoreState state, IDurableLog? log, IDomainConnections? domains)
    {
        _context = new RequestContext(state, log);
        _nodes = new NodeRequests(_context);
        _permissions = new PermissionRequests(_context);
        _watches = new WatchRequests(_context);
        _transactions = new TransactionRequests(_context);
        _domains = new DomainRequests(_context, domains);
        _control = new ControlRequests(_context, () => Requests);
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
        var triggers = _context.Triggers;
        triggers.Clear();
        var error = Dispatch(conn, header, payload);
        if (error != XsError.None)
        {
            Errors++;
            conn.Send(XsMessageType.Error, header.ReqId, header.TxId, XsErrorNames.Payload(error));
        }

        // Watch events follow the reply, as in Xen (a client waiting for its ack sees the ack first).
        foreach (var t in triggers)
        {
            _context.State.Watches.Fire(t);
        }

        _context.Log?.EndRequest();
    }

    /// <inheritdoc cref="DomainRequests.ReleaseVanished"/>
    public bool ReleaseVanished(uint domid) => _domains.ReleaseVanished(domid);

    private XsError Dispatch(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        switch ((XsMessageType)h.Type)
        {
            case XsMessageType.Read: return _nodes.Read(conn, h, p);
            case XsMessageType.Write: return _nodes.Write(conn, h, p);
            case XsMessageType.Mkdir: return _nodes.Mkdir(conn, h, p);
            case XsMessageType.Rm: return _nodes.Rm(conn, h, p);
            case XsMessageType.Directory: return _nodes.Directory(conn, h, p);
            case XsMessageType.DirectoryPart: return _nodes.DirectoryPart(conn, h, p);
            case XsMessageType.GetPerms: return _permissions.GetPerms(conn, h, p);
            case XsMessageType.SetPerms: return _permissions.SetPerms(conn, h, p);
            case XsMessageType.Watch: return _watches.Watch(conn, h, p);
            case XsMessageType.Unwatch: return _watches.Unwatch(conn, h, p);
            case XsMessageType.ResetWatches: return _watches.ResetWatches(conn, h);
            case XsMessageType.TransactionStart: return _transactions.Start(conn, h);
            case XsMessageType.TransactionEnd: return _transactions.End(conn, h, p);
            case XsMessageType.Introduce: return _domains.Introduce(conn, h, p);
            case XsMessageType.Release: return _domains.Release(conn, h, p);
            case XsMessageType.Resume: return _domains.Resume(conn, h, p);
            case XsMessageType.SetTarget: return _domains.SetTarget(conn, h, p);
            case XsMessageType.IsDomainIntroduced: return _domains.IsDomainIntroduced(conn, h, p);
            case XsMessageType.GetDomainPath: return _domains.GetDomainPath(conn, h, p);
            case XsMessageType.Control: return _control.Control(conn, h, p);
            default: return XsError.EINVAL; // WATCH_EVENT and ERROR are ours to send; 20 is obsolete; the rest unknown
        }
    }
}
