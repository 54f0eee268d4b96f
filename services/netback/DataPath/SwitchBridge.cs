using Disagg.Netback.Switch;
using Disagg.Netback.Uplink;

namespace Disagg.Netback.DataPath;

/// <summary>A bridge with what sits behind each of its ports: a vif or a TAP uplink, by port index.</summary>
internal sealed class SwitchBridge(string name)
{
    public Bridge Bridge { get; } = new(name);

    public List<Vif?> Vifs { get; } = [];

    public List<TapUplink?> Uplinks { get; } = [];

    public SwitchPort Add(Vif vif)
    {
        var s = vif.Settings;
        var port = Bridge.AddVif(vif.Id.ToString(), s.Mac, s.Mtu);
        Vifs.Add(vif);
        Uplinks.Add(null);
        return port;
    }

    public SwitchPort Add(TapUplink uplink, int mtu)
    {
        var port = Bridge.AddUplink(uplink.Device.Name, mtu);
        Vifs.Add(null);
        Uplinks.Add(uplink);
        return port;
    }

    public void Remove(SwitchPort port)
    {
        Bridge.RemovePort(port);
        Vifs[port.Index] = null;
        Uplinks[port.Index] = null;
    }
}
