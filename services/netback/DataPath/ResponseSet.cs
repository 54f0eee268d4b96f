using Disagg.Service;

namespace Disagg.Netback.DataPath;

/// <summary>
/// The vifs a turn answered on, and publishing their responses: push-and-check-notify on each ring, and at most
/// one event per port per turn, only if the frontend asked (ring.h). Switching thread only.
/// </summary>
internal sealed class ResponseSet(IBackendChannel channel)
{
    private readonly List<Vif> _touched = [];

    /// <summary>Answers tx request <paramref name="id"/> (published with the turn's others).</summary>
    public void Respond(Vif vif, ushort id, short status)
    {
        ref var rsp = ref vif.Tx.NextResponse();
        rsp.Id = id;
        rsp.Status = status;
        if (!vif.TxResponsesPending)
        {
            vif.TxResponsesPending = true;
            Touch(vif);
        }
    }

    /// <summary>The vif has responses to publish this turn.</summary>
    public void Touch(Vif vif)
    {
        if (!vif.Touched)
        {
            vif.Touched = true;
            _touched.Add(vif);
        }
    }

    /// <summary>Publishes tx responses only: the frontend may reuse its tx buffers as soon as their data is ours.</summary>
    public void PublishTx()
    {
        foreach (var vif in _touched)
        {
            if (vif.TxResponsesPending)
            {
                vif.TxResponsesPending = false;
                vif.NotifyTxOwed |= vif.Tx.PushResponses();
            }
        }
    }

    /// <summary>Publishes every touched vif's responses and sends the events owed.</summary>
    public void Publish()
    {
        PublishTx();
        foreach (var vif in _touched)
        {
            if (vif.RxResponsesPending)
            {
                vif.RxResponsesPending = false;
                vif.NotifyRxOwed |= vif.Rx.PushResponses();
            }

            // One event per port: with one event channel, the rx send also tells the frontend about tx responses.
            if (vif.NotifyTxOwed && (!vif.NotifyRxOwed || vif.TxPort != vif.RxPort))
            {
                channel.Notify(vif.TxPort);
            }

            if (vif.NotifyRxOwed)
            {
                channel.Notify(vif.RxPort);
            }

            vif.NotifyTxOwed = vif.NotifyRxOwed = false;
            vif.Touched = false;
        }

        _touched.Clear();
    }
}
