using Disagg.Abi.Io;
using Disagg.Netback.Switch;
using Disagg.Ring;

namespace Disagg.Netback.DataPath;

/// <summary>
/// A connected vif as the switching thread sees it: its two rings (pages the frontend granted us, mapped by the
/// xenbus side), its event ports, and the per-ring state the thread keeps between batches. Everything below
/// <see cref="Settings"/> is touched by the switching thread only.
/// </summary>
public sealed unsafe class Vif
{
    public Vif(VifId id, VifSettings settings, int frontendDomain, byte* txRing, byte* rxRing, int txPort, int rxPort, bool resume)
    {
        Id = id;
        Settings = settings;
        FrontendDomain = frontendDomain;
        TxPort = txPort;
        RxPort = rxPort;
        var name = id.ToString();
        // A restarted backend resumes where its predecessor last answered (docs/NETBACK.md, recovery).
        Tx = resume
            ? BackRing<NetifTxRequest, NetifTxResponse>.Resume(name + "-tx", txRing, RingGeometry.PageSize)
            : BackRing<NetifTxRequest, NetifTxResponse>.Attach(name + "-tx", txRing, RingGeometry.PageSize);
        Rx = resume
            ? BackRing<NetifRxRequest, NetifRxResponse>.Resume(name + "-rx", rxRing, RingGeometry.PageSize)
            : BackRing<NetifRxRequest, NetifRxResponse>.Attach(name + "-rx", rxRing, RingGeometry.PageSize);
    }

    public VifId Id { get; }

    public VifSettings Settings { get; }

    public int FrontendDomain { get; }

    public int TxPort { get; }

    /// <summary>Equal to <see cref="TxPort"/> unless the frontend asked for split event channels.</summary>
    public int RxPort { get; }

    public BackRing<NetifTxRequest, NetifTxResponse> Tx { get; }

    public BackRing<NetifRxRequest, NetifRxResponse> Rx { get; }

    /// <summary>Its port on its bridge, set when the switching thread attaches it.</summary>
    public SwitchPort? Port { get; internal set; }

    /// <summary>Set by the switching thread when a ring faulted; the vif forwards nothing more.</summary>
    public RingFault Fault { get; internal set; }

    internal TokenBucket? RateLimit { get; set; }

    internal SwitchBridge? Bridge { get; set; }

    internal bool Active;
    internal bool Attached;
    internal bool Touched;
    internal bool TxResponsesPending;
    internal bool RxResponsesPending;
    internal bool NotifyTxOwed;
    internal bool NotifyRxOwed;

    /// <summary>Frames waiting for rx buffers (see <see cref="SwitchLoop.RxBacklogPerVif"/>).</summary>
    internal readonly RxBacklog Backlog = new(SwitchLoop.RxBacklogPerVif);

    /// <summary>A request the rate limit held back: taken from the ring, served when the bucket refills.</summary>
    internal NetifTxRequest Held;
    internal bool HasHeld;
    internal long HeldUntilNs;

    /// <summary>Refusing the rest of a multi-slot packet (we do not offer feature-sg): every slot until one without more_data.</summary>
    internal bool SkippingChain;

    /// <summary>The next slot is a netif_extra_info, answered with NETIF_RSP_NULL.</summary>
    internal bool SkippingExtra;

    public override string ToString() => Id.ToString();
}
