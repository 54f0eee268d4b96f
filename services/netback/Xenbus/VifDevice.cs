using Disagg.Netback.DataPath;
using Disagg.Service;
using Disagg.Xenbus.Backend;

namespace Disagg.Netback.Xenbus;

/// <summary>
/// One vif device as netback tracks it: its xenbus address, its settings, and while connected the mapped ring
/// pages, our event ports and the data-path <see cref="DataPath.Vif"/>. Changed on the backend's control task only.
/// </summary>
internal sealed class VifDevice(XenbusDevice address, VifSettings settings)
{
    public XenbusDevice Address { get; } = address;

    public VifId Id { get; } = new(address.FrontendDomain, address.DeviceId);

    public VifSettings Settings { get; } = settings;

    public MappedGrant? TxPage { get; set; }

    public MappedGrant? RxPage { get; set; }

    public int LocalTxPort { get; set; }

    public int LocalRxPort { get; set; }

    public Vif? Vif { get; set; }

    /// <summary>The counters of the last connection, kept for the status file while disconnected.</summary>
    public Switch.PortStatistics? LastStatistics { get; set; }

    public bool Connected => Vif is not null;
}
