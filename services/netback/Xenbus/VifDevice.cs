using Disagg.Netback.Datapath;
using Disagg.Service;

namespace Disagg.Netback.Xenbus;

/// <summary>
/// One vif device as the xenbus side tracks it: its directories, its settings, and while connected the mapped
/// ring pages, our event ports and the data-path <see cref="Datapath.Vif"/>.
/// </summary>
internal sealed class VifDevice(VifId id, string backend, string frontend, VifSettings settings)
{
    public VifId Id { get; } = id;

    public string Backend { get; } = backend;

    public string Frontend { get; } = frontend;

    public VifSettings Settings { get; } = settings;

    public string WatchToken => "fe:" + Backend;

    /// <summary>The backend state we last wrote.</summary>
    public Abi.Io.XenbusState State { get; set; }

    public FrontendRings? Rings { get; set; }

    /// <summary>Rings that faulted: not connected again until the frontend leaves Connected or writes new ones.</summary>
    public FrontendRings? FaultedRings { get; set; }

    public MappedGrant? TxPage { get; set; }

    public MappedGrant? RxPage { get; set; }

    public int LocalTxPort { get; set; }

    public int LocalRxPort { get; set; }

    public Vif? Vif { get; set; }

    /// <summary>The counters of the last connection, kept for the status file while disconnected.</summary>
    public Switch.PortStatistics? LastStatistics { get; set; }

    public bool Connected => Vif is not null;
}
