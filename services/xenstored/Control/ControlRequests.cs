using System.Globalization;
using System.Text;
using Disagg.Abi.Io;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Protocol;

namespace Disagg.Xenstored.Control;

/// <summary>XS_CONTROL (formerly XS_DEBUG, xenstored_control.c): the few commands an operator needs; privileged only.</summary>
public sealed class ControlRequests
{
    private readonly RequestContext _context;
    private readonly Func<long> _requests;

    /// <param name="requests">The request count "status" reports (the dispatcher keeps it).</param>
    public ControlRequests(RequestContext context, Func<long> requests)
    {
        _context = context;
        _requests = requests;
    }

    public XsError Control(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
    {
        if (!conn.Caller.Privileged)
        {
            return XsError.EACCES;
        }

        if (!XsPayload.TrySplitFirst(p, out var command, out _))
        {
            return XsError.EINVAL;
        }

        var state = _context.State;
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
                var q = state.Quota;
                text = string.Create(CultureInfo.InvariantCulture,
                    $"Quota settings are:\nnodes      {q.EntriesPerDomain}\nnodesize   {q.NodeSize}\nwatches    {q.WatchesPerDomain}\ntransactions {q.TransactionsPerDomain}\noutstanding {q.OutstandingRequests}\n");
                break;
            case "status":
                text = string.Create(CultureInfo.InvariantCulture,
                    $"nodes {state.Tree.Count}\nwatches {state.Watches.Count}\ndomains {state.Domains.Count}\nrequests {_requests()}\n");
                break;
            default:
                return XsError.EINVAL;
        }

        var reply = _context.Reply;
        var n = Encoding.ASCII.GetBytes(text, reply);
        reply[n++] = 0;
        conn.Send(XsMessageType.Control, h.ReqId, h.TxId, reply.AsSpan(0, n));
        return XsError.None;
    }
}
