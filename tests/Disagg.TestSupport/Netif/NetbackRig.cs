using System.Globalization;
using System.Net;
using Disagg.Control;
using Disagg.Control.Messages;

namespace Disagg.TestSupport.Netif;

/// <summary>
/// A host for netback tests in a temp directory: the real disagg-kernel, a real disagg-xenstored (socket only),
/// and the real disagg-netback registered as service domain 2 — started as the supervisor would start it, and
/// killed and restarted by the tests that play the supervisor. Native frontends join as further service domains.
/// Everything is torn down on dispose, frontends first.
/// </summary>
public sealed class NetbackHost : IAsyncDisposable
{
    public const int NetbackDomain = 2;
    private readonly List<NetfrontStation> _stations = [];

    private NetbackHost(string dir, KernelProcess kernel, KernelClient control, ServiceProcess xenstored, ServiceProcess netback)
    {
        Directory = dir;
        Kernel = kernel;
        Control = control;
        Xenstored = xenstored;
        Netback = netback;
    }

    public string Directory { get; }

    public KernelProcess Kernel { get; }

    public KernelClient Control { get; }

    public ServiceProcess Xenstored { get; }

    public ServiceProcess Netback { get; }

    public string XenstoreSocket => Path.Combine(Directory, "xenstored.sock");

    public string StateDirectory => Path.Combine(Directory, "netback");

    /// <summary>Starts the host; <paramref name="wrap"/> prefixes netback's command line (e.g. ip netns exec NS).</summary>
    public static async Task<NetbackHost> StartAsync(string[]? uplinks = null, string[]? wrap = null)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("netback-test-").FullName;
        var kernel = await KernelProcess.StartAsync(pcpus: 1, memory: "64M");
        var control = await kernel.ConnectAsync();
        var xenstored = new ServiceProcess("disagg-xenstored", ["--socket", Path.Combine(dir, "xenstored.sock"), "--state-dir", Path.Combine(dir, "xenstored")]);
        xenstored.Start();
        var token = (await control.CallAsync<ServiceRegistered>(new RegisterService("netback", NetbackDomain))).Token;
        var args = new List<string>();
        var program = "disagg-netback";
        if (wrap is not null)
        {
            program = wrap[0];
            args.AddRange(wrap[1..]);
            args.Add(RepoPaths.Program("disagg-netback"));
        }

        args.AddRange(["--xenstore", Path.Combine(dir, "xenstored.sock"), "--state-dir", Path.Combine(dir, "netback"),
            "--kernel-socket", kernel.Socket, "--token", token, "--domain", NetbackDomain.ToString(CultureInfo.InvariantCulture)]);
        foreach (var u in uplinks ?? [])
        {
            args.AddRange(["--uplink", u]);
        }

        var netback = new ServiceProcess(program, args);
        netback.Start();
        return new NetbackHost(dir, kernel, control, xenstored, netback);
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
    public Dictionary<string, string> SwitchStatus()
    {
        var line = File.ReadAllLines(Path.Combine(StateDirectory, "status")).First(l => l.StartsWith("switch ", StringComparison.Ordinal));
        return line.Split(' ').Skip(1).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
    }

    /// <summary>The status file line of vif <paramref name="domain"/>.0, as key=value pairs (waits for it to appear).</summary>
    public async Task<Dictionary<string, string>> VifStatusAsync(int domain, Func<Dictionary<string, string>, bool>? until = null)
    {
        var name = $"vif{domain}.0 ";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        Dictionary<string, string> fields = [];
        while (DateTime.UtcNow < deadline)
        {
            var path = Path.Combine(StateDirectory, "status");
            var line = File.Exists(path) ? File.ReadAllLines(path).FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal)) : null;
            if (line is not null)
            {
                fields = line.Split(' ').Skip(1).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
                if (until is null || until(fields))
                {
                    return fields;
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"status of vif{domain}.0 never matched; last: {string.Join(' ', fields.Select(kv => kv.Key + "=" + kv.Value))}\n{Netback.StdErr}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _stations)
        {
            await s.DisposeAsync();
        }

        Netback.Dispose();
        Xenstored.Dispose();
        await Control.DisposeAsync();
        await Kernel.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a socket still being removed
        }
    }
}
