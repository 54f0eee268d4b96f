using System.Net;
using Disagg.Control;
using Disagg.Netif;

namespace Disagg.TestSupport.Netif;

/// <summary>
/// netback's test host: a <see cref="BackendRig"/> running the real disagg-netback as service domain 2, and native
/// frontends that join as further service domains. Frontends are torn down first, then the rig.
/// </summary>
public sealed class NetbackRig : IAsyncDisposable
{
    public const int NetbackDomain = 2;
    private readonly List<NetfrontStation> _stations = [];

    private NetbackRig(BackendRig rig) => Rig = rig;

    public BackendRig Rig { get; }

    public KernelProcess Kernel => Rig.Kernel;

    public KernelClient Control => Rig.Control;

    public ServiceProcess Xenstored => Rig.Xenstored;

    public ServiceProcess Netback => Rig.Backend;

    public string XenstoreSocket => Rig.XenstoreSocket;

    public string StateDirectory => Rig.StateDirectory;

    /// <summary>Starts the host; <paramref name="wrap"/> prefixes netback's command line (e.g. ip netns exec NS); an HVM guest needs more than the default pCPU and memory.</summary>
    public static async Task<NetbackRig> StartAsync(string[]? uplinks = null, string[]? wrap = null, int pcpus = 1, string memory = "64M")
    {
        var args = new List<string>();
        foreach (var u in uplinks ?? [])
        {
            args.AddRange(["--uplink", u]);
        }

        return new NetbackRig(await BackendRig.StartAsync("disagg-netback", "netback", NetbackDomain, args, wrap, pcpus, memory).ConfigureAwait(false));
    }

    /// <summary>A native frontend as domain <paramref name="domain"/>, connected, with its own thread.</summary>
    public async Task<NetfrontStation> AddStationAsync(int domain, string mac, string bridge = "xenbr0", string? ip = null, int mtu = 1500, string? rate = null)
    {
        var fe = await NativeNetfront.StartAsync(Kernel, Control, XenstoreSocket, domain, new VifDescription(0, mac, bridge, mtu, rate), NetbackDomain);
        var station = new NetfrontStation(fe, ip is null ? null : IPAddress.Parse(ip));
        _stations.Add(station);
        return station;
    }

    /// <summary>A native frontend without a thread: the test drives its rings itself (hostile requests).</summary>
    public Task<NativeNetfront> AddFrontendAsync(int domain, string mac, string bridge = "xenbr0", int mtu = 1500) =>
        NativeNetfront.StartAsync(Kernel, Control, XenstoreSocket, domain, new VifDescription(0, mac, bridge, mtu), NetbackDomain);

    /// <summary>The status file's "switch" line, as key=value pairs.</summary>
    public Dictionary<string, string> SwitchStatus() => Rig.StatusAsync("switch").GetAwaiter().GetResult();

    /// <summary>The status file line of vif <paramref name="domain"/>.0, as key=value pairs (waits for it to appear).</summary>
    public Task<Dictionary<string, string>> VifStatusAsync(int domain, Func<Dictionary<string, string>, bool>? until = null) =>
        Rig.StatusAsync($"vif{domain}.0", until);

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _stations)
        {
            await s.DisposeAsync();
        }

        await Rig.DisposeAsync();
    }
}
