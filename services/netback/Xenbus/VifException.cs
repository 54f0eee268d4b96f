using Disagg.Netback.Datapath;

namespace Disagg.Netback.Xenbus;

/// <summary>
/// A vif could not be set up or connected because of what its frontend or the toolstack wrote (a missing or
/// malformed key, a grant that does not map, a port not offered to us): the domain, the device and why.
/// The device gets an "error" node and stays unconnected; every other vif carries on.
/// </summary>
public sealed class VifException(VifId vif, string reason, Exception? inner = null)
    : Exception($"{vif} (domain {vif.Domain}, device {vif.Device}): {reason}", inner)
{
    public VifId Vif { get; } = vif;

    public string Reason { get; } = reason;
}
