using System.Globalization;
using Disagg.Abi.Io;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Protocol;

namespace Disagg.Xenstored.Transactions;

/// <summary>
/// XS_TRANSACTION_START and XS_TRANSACTION_END (xenstored_transaction.c): a transaction is a private view of
/// the tree (<see cref="TransactionView"/>) that commits only if nothing it touched changed meanwhile.
/// </summary>
public sealed class TransactionRequests
{
    private readonly RequestContext _context;

    public TransactionRequests(RequestContext context) => _context = context;

    public XsError Start(XsConnection conn, in XsWireHeader h)
    {
        if (h.TxId != 0)
        {
            return XsError.EBUSY; // no nested transactions
        }

        if (!conn.Caller.Privileged && conn.Transactions.Count >= _context.State.Quota.TransactionsPerDomain)
        {
            return XsError.ENOSPC;
        }

        var id = conn.AllocateTransactionId();
        conn.Transactions.Add(id, new TransactionView(_context.State.Tree, id));
        var reply = _context.Reply;
        id.TryFormat(reply, out var n, default, CultureInfo.InvariantCulture);
        reply[n++] = 0;
        conn.Send(XsMessageType.TransactionStart, h.ReqId, h.TxId, reply.AsSpan(0, n));
        return XsError.None;
    }

    public XsError End(XsConnection conn, in XsWireHeader h, ReadOnlySpan<byte> p)
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

            tx.ApplyTo(_context.State.Tree);
            _context.Triggers.AddRange(tx.PendingTriggers);
        }

        return RequestContext.AckUnless(conn, h, XsError.None);
    }
}
