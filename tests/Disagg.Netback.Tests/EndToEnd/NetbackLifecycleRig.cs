using System.Globalization;
using Disagg.TestSupport;
using Disagg.TestSupport.Lifecycle;
using Disagg.TestSupport.Netif;
using Disagg.Xenbus;

namespace Disagg.Netback.Tests.EndToEnd;

/// <summary>
/// netback for the life-cycle suite: a <see cref="NetbackRig"/> with one peer station (domain 30) that every
/// attached vif pings; data flows when the echo replies come back.
/// </summary>
internal sealed class NetbackLifecycleRig(NetbackRig host, NetfrontStation peer) : ILifecycleRig
{
    private const string PeerIp = "10.0.0.30";

    public ServiceProcess Backend => host.Netback;

    public ServiceProcess Xenstored => host.Xenstored;

    public string XenstoreSocket => host.XenstoreSocket;

    public static async Task<NetbackLifecycleRig> StartAsync()
    {
        var host = await NetbackRig.StartAsync();
        var peer = await host.AddStationAsync(30, "00:16:3e:00:00:30", ip: PeerIp);
        return new NetbackLifecycleRig(host, peer);
    }

    public async Task<ILifecycleDevice> AttachAsync(int index)
    {
        var domain = 10 + index;
        var station = await host.AddStationAsync(domain, $"00:16:3e:00:00:{domain:x2}", ip: $"10.0.0.{domain}");
        return new Vif(host, station, peer, domain);
    }

    public async Task<string> WriteDeviceWithBadRingReferenceAsync(XenstoreClient xs, int domain)
    {
        const uint tx = XenstoreClient.NoTransaction;
        var c = CancellationToken.None;
        var fe = XenbusPaths.Frontend(domain, "vif", 0);
        var be = XenbusPaths.Backend(NetbackRig.NetbackDomain, "vif", domain, 0);
        await xs.WriteAsync(tx, fe + "/backend", be, c);
        await xs.WriteAsync(tx, fe + "/tx-ring-ref", "x", c);
        await xs.WriteAsync(tx, fe + "/rx-ring-ref", "1", c);
        await xs.WriteAsync(tx, fe + "/event-channel", "5", c);
        await xs.WriteAsync(tx, fe + "/request-rx-copy", "1", c);
        await xs.WriteAsync(tx, fe + "/state", "3", c);
        await xs.WriteAsync(tx, be + "/frontend-id", domain.ToString(CultureInfo.InvariantCulture), c);
        await xs.WriteAsync(tx, be + "/mac", "00:16:3e:00:00:77", c);
        await xs.WriteAsync(tx, be + "/state", "1", c);
        await xs.WriteAsync(tx, be + "/frontend", fe, c);
        return be;
    }

    public ValueTask DisposeAsync() => host.DisposeAsync();

    private sealed class Vif(NetbackRig host, NetfrontStation station, NetfrontStation peer, int domain) : ILifecycleDevice
    {
        private ushort _seq;

        public string BackendPath => station.Frontend.BackendPath;

        public string FrontendPath => station.Frontend.FrontendPath;

        public async Task AssertDataFlowsAsync()
        {
            var seq = ++_seq;
            var ip = $"10.0.0.{domain}";
            for (var attempt = 0; attempt < 3; attempt++)
            {
                // A ping lost while a ring is being taken up again is sent once more; three lost in a row is a fault.
                station.Send(Packets.Ping(station.Mac, ip, peer.Mac, PeerIp, seq));
                if (await station.ReceiveAsync(f => Packets.IsEchoReply(f, seq), TimeSpan.FromSeconds(5)) is not null)
                {
                    return;
                }
            }

            Assert.Fail($"vif{domain}.0: no echo reply from the peer\n{host.Netback.StdErr}");
        }

        public void BreakRing()
        {
            unsafe
            {
                // req_prod (offset 0 of the shared ring) a long way past anything the backend consumed.
                Volatile.Write(ref *(uint*)station.Frontend.TxRingPage, 0x8000_0123u);
            }

            station.Frontend.Notify();
        }

        public Task FollowBackendRestartAsync() => Task.CompletedTask; // netfront does nothing: netback resumes its rings

        public async Task<bool> StatusSaysConnectedAsync(bool expected)
        {
            var want = expected ? "connected" : "disconnected";
            var line = await host.VifStatusAsync(domain, s => s["state"] == want);
            return line["state"] == want;
        }
    }
}
