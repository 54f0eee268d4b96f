using Disagg.Netback.Switch;

namespace Disagg.Netback.DataPath;

/// <summary>
/// A vif's configuration as the toolstack wrote it under the backend directory: the bridge it joins, the
/// only MAC it may send from, its MTU, and its rate limit (xl rate=, as "BYTES,MICROSECONDS" per interval).
/// Announce: the guest arrived from elsewhere (a restore, a migration): each time the vif connects, the switch
/// sends a RARP from its MAC to the bridge (<see cref="Switch.Announcement"/>) so the bridge's ports learn it.
/// </summary>
public sealed record VifSettings(string Bridge, MacAddress Mac, int Mtu, long RateBytesPerInterval, long RateIntervalUs, bool Announce = false)
{
    /// <summary>
    /// The largest MTU we accept: without scatter-gather (feature-sg=0) a frame travels in one slot, so it must
    /// fit one page with its Ethernet header and a VLAN tag.
    /// </summary>
    public const int MaxMtu = 4096 - Switch.Bridge.EthernetHeader - Switch.Bridge.VlanTag;

    public bool HasRate => RateBytesPerInterval > 0;
}
