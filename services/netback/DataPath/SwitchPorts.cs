using System.Threading.Channels;
using Disagg.Netback.Switch;
using Disagg.Netback.Uplink;
using Disagg.Ring;
using Disagg.Service;

namespace Disagg.Netback.DataPath;

/// <summary>
/// The switch's state between turns: its bridges and what sits behind each port, which vif an event port
/// belongs to, the vifs with work (the active set, round robin), and vifs whose ring faulted. Attach and detach
/// come from the xenbus side as commands, applied between batches. Switching thread only.
/// </summary>
internal sealed class SwitchPorts(RxBacklogPool backlog)
{
    private readonly Dictionary<string, SwitchBridge> _bridges = new(StringComparer.Ordinal);
    private readonly Vif?[] _byPort = new Vif?[Abi.Boot.SharedInfo.MaxPorts];
    private readonly int[] _ports = new int[256];
    private readonly List<Vif> _faulted = [];

    /// <summary>Vifs that may have tx requests (an event came, or a final check found some).</summary>
    public List<Vif> Active { get; } = [];

    /// <summary>Vifs attached since the last batch whose MAC is to be announced on their bridge (VifSettings.Announce).</summary>
    public List<Vif> Announcements { get; } = [];

    /// <summary>Scratch for a forwarding decision: one entry per port of the largest bridge.</summary>
    public int[] Destinations { get; private set; } = new int[64];

    public void Attach(Vif vif, long nowNs)
    {
        var bridge = BridgeNamed(vif.Settings.Bridge);
        vif.Port = bridge.Add(vif);
        vif.Bridge = bridge;
        if (vif.Settings.HasRate)
        {
            vif.RateLimit = new TokenBucket(vif.Settings.RateBytesPerInterval, vif.Settings.RateIntervalUs * 1000, nowNs);
        }

        vif.Attached = true;
        _byPort[vif.TxPort] = vif;
        _byPort[vif.RxPort] = vif;
        GrowDestinations(bridge);
        if (vif.Settings.Announce)
        {
            Announcements.Add(vif);
        }

        Activate(vif); // a resumed ring may hold requests queued while we were away
    }

    public void Detach(Vif vif)
    {
        if (!vif.Attached)
        {
            return;
        }

        vif.Attached = false;
        vif.Bridge!.Remove(vif.Port!);
        if (_byPort[vif.TxPort] == vif)
        {
            _byPort[vif.TxPort] = null;
        }

        if (_byPort[vif.RxPort] == vif)
        {
            _byPort[vif.RxPort] = null;
        }

        Active.Remove(vif);
        Announcements.Remove(vif);
        vif.Active = false;
        backlog.Release(vif);
    }

    public void AttachUplink(TapUplink uplink)
    {
        var bridge = BridgeNamed(uplink.Bridge);
        uplink.Port = bridge.Add(uplink, uplink.Mtu);
        GrowDestinations(bridge);
    }

    public SwitchBridge BridgeNamed(string name)
    {
        if (!_bridges.TryGetValue(name, out var bridge))
        {
            bridge = new SwitchBridge(name);
            _bridges[name] = bridge;
        }

        return bridge;
    }

    /// <summary>Takes the pending event ports: each one's vif joins the active set.</summary>
    public void TakeEvents(IBackendChannel channel)
    {
        int n;
        do
        {
            n = channel.TakePendingEvents(_ports);
            for (var i = 0; i < n; i++)
            {
                if (_byPort[_ports[i]] is { } vif)
                {
                    Activate(vif);
                }
            }
        }
        while (n == _ports.Length);
    }

    /// <summary>
    /// The final check before sleeping (ring.h): a vif leaves the active set only after asking its frontend to
    /// notify at the next request and finding none. A vif held back by its rate limit stays, with a wake time.
    /// A vif with a backlog asks its frontend to notify when it posts rx buffers. True if work turned up.
    /// </summary>
    public bool FinalCheck()
    {
        var work = false;
        for (var i = Active.Count - 1; i >= 0; i--)
        {
            var vif = Active[i];
            if (vif.HasHeld)
            {
                continue;
            }

            if (vif.Tx.FinalCheckForRequests())
            {
                work = true;
            }
            else
            {
                CheckFault(vif);
                vif.Active = false;
                Active.RemoveAt(i);
            }
        }

        foreach (var vif in backlog.Backlogged)
        {
            if (vif.Rx.FinalCheckForRequests())
            {
                work = true;
            }
        }

        return work; // uplinks: read every turn, and waited on in the sleep
    }

    /// <summary>A frontend that wrote garbage ring indices: stop serving it (after this turn), keep serving everyone else.</summary>
    public void CheckFault(Vif vif)
    {
        var fault = vif.Tx.Fault != RingFault.None ? vif.Tx.Fault : vif.Rx.Fault;
        if (fault == RingFault.None || vif.Fault != RingFault.None)
        {
            return;
        }

        vif.Fault = fault;
        _faulted.Add(vif);
    }

    /// <summary>Detaches the vifs that faulted this turn and tells the xenbus side.</summary>
    public void DetachFaulted(ChannelWriter<Vif> faults)
    {
        foreach (var vif in _faulted)
        {
            Detach(vif);
            faults.TryWrite(vif);
        }

        _faulted.Clear();
    }

    private void Activate(Vif vif)
    {
        if (!vif.Active && vif.Attached)
        {
            vif.Active = true;
            Active.Add(vif);
        }
    }

    private void GrowDestinations(SwitchBridge bridge)
    {
        if (Destinations.Length < bridge.Vifs.Count)
        {
            Destinations = new int[bridge.Vifs.Count * 2];
        }
    }
}
