using Disagg.TestSupport.Netif;
using Disagg.TestSupport;

namespace Disagg.Netback.Tests.EndToEnd;

/// <summary>
/// A TAP uplink inside a network namespace the test creates: netback runs in it (as root), creates the TAP on
/// xenbr0, and the namespace's own ping reaches a native frontend, which answers ARP and ICMP echo itself.
/// </summary>
public sealed class UplinkTests : IAsyncLifetime
{
    private readonly string _ns = "nbt" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
    private NetbackRig? _host;

    private ProcessResult Ip(params string[] args) => HostProcess.Run("/usr/sbin/ip", args, TimeSpan.FromSeconds(30));

    private ProcessResult InNamespace(params string[] args) => HostProcess.Run("/usr/sbin/ip", ["netns", "exec", _ns, .. args], TimeSpan.FromSeconds(30));

    public async Task InitializeAsync()
    {
        var added = Ip("netns", "add", _ns);
        Assert.True(added.ExitCode == 0, added.StdErr);
        _host = await NetbackRig.StartAsync(uplinks: ["xenbr0=nbtap0"], wrap: ["/usr/sbin/ip", "netns", "exec", _ns]);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        InNamespace("ip", "link", "del", "nbtap0"); // persistent: it outlives netback by design
        Ip("netns", "del", _ns);
    }

    [Fact]
    public async Task The_host_pings_a_native_frontend_through_the_tap_uplink()
    {
        var a = await _host!.AddStationAsync(10, "00:16:3e:00:00:0a", ip: "10.9.0.2");
        var addr = InNamespace("ip", "addr", "add", "10.9.0.1/24", "dev", "nbtap0");
        Assert.True(addr.ExitCode == 0, addr.StdErr);
        var ping = InNamespace("ping", "-c", "3", "-i", "0.2", "-W", "5", "10.9.0.2");
        Assert.True(ping.ExitCode == 0, $"{ping.StdOut}\n{ping.StdErr}\n{_host.Netback.StdErr}");
        Assert.Contains("3 received", ping.StdOut);
        Assert.True(a.Answered >= 4); // at least one ARP reply and three echo replies
    }
}
