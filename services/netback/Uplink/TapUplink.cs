using Disagg.Interop.Net;
using Disagg.Netback.Switch;

namespace Disagg.Netback.Uplink;

/// <summary>A bridge's way out to the host: a TAP device as one more switch port, which may send from any MAC.</summary>
public sealed class TapUplink(string bridge, TapDevice device, int mtu)
{
    public const int DefaultMtu = 1500;

    public int Mtu { get; } = mtu;

    public string Bridge { get; } = bridge;

    public TapDevice Device { get; } = device;

    public SwitchPort? Port { get; internal set; }
}
