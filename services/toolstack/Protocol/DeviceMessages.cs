using System.Text.Json.Serialization;

namespace Disagg.Toolstack.Protocol;

/// <summary>Which kind of device a hot plug verb acts on. Wire values: append-only.</summary>
internal enum DeviceKind
{
    /// <summary>A virtual block device (block-attach, block-detach, block-list).</summary>
    Vbd = 0,

    /// <summary>A virtual network interface (network-attach, network-detach, network-list).</summary>
    Vif = 1,
}

/// <summary>block-attach / network-attach DOMAIN SPEC: Spec is an xl disk or vif spec, checked by the daemon.</summary>
internal sealed record DeviceAttachRequest(string Domain, DeviceKind Kind, string Spec) : DaemonMessage;

/// <summary>
/// block-detach DOMAIN VDEV / network-detach DOMAIN DEVID|MAC: the backend is asked to close and
/// given TimeoutSeconds to say Closed; Force removes the directories even when it did not.
/// </summary>
internal sealed record DeviceDetachRequest(string Domain, DeviceKind Kind, string Device, bool Force, int TimeoutSeconds) : DaemonMessage;

/// <summary>block-list / network-list DOMAIN.</summary>
internal sealed record DeviceListRequest(string Domain, DeviceKind Kind) : DaemonMessage;

internal sealed record DeviceListReply(IReadOnlyList<DeviceRow> Devices) : DaemonMessage;

/// <summary>
/// One device as xl's block-list / network-list shows it: Devid is xl's Vdev number (vbd) or Idx (vif);
/// Name the vdev (xvda) or the MAC; State the frontend's xenbus state, BackendState the backend's;
/// EventChannel and RingRef as the frontend published them (-1 before it connects; a vif has tx/rx rings).
/// </summary>
internal sealed record DeviceRow(
    int Devid,
    string Name,
    [property: JsonPropertyName("backend_id")] int BackendDomain,
    int Handle,
    int State,
    int BackendState,
    [property: JsonPropertyName("evtch")] int EventChannel,
    string RingRef,
    string BackendPath,
    string? Error);
