using System.Globalization;
using Disagg.Toolstack.Cli;

namespace Disagg.Toolstack.Fault.Workload;

/// <summary>
/// The guests a fault run starts for itself: two pvos guests pinging each other every 100 ms through netback
/// (sequence-numbered, so every lost frame and each loss window shows), and one running blk-verify over a raw
/// image through blkback (every pass written, flushed, read back and checked). Each guest's console is its
/// heartbeat. Crashes and power-offs are preserved, so a guest that died is seen dead, not gone.
/// </summary>
internal sealed class WorkloadGuests(HostLink host, string dir, string pvos)
{
    public const int PingIntervalMs = 100;
    public const string PingA = "fault-net-a";
    public const string PingB = "fault-net-b";
    public const string Blk = "fault-blk";

    private readonly List<string> _started = [];

    public static IReadOnlyList<(string Name, string Role)> Roles { get; } = [(PingA, "ping"), (PingB, "ping"), (Blk, "blk-verify")];

    /// <summary>pvos.elf beside the build: out/bin/../../guests/build/rv64 in a checkout.</summary>
    public static string? FindPvos()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "guests", "build", "rv64", "pvos.elf");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public async Task StartAsync(CancellationToken cancel)
    {
        var existing = (await host.DomainsAsync(cancel).ConfigureAwait(false)).Select(d => d.Name).ToHashSet();
        foreach (var (name, _) in Roles)
        {
            if (existing.Contains(name))
            {
                throw new CliException($"a guest named {name} exists already (left by an earlier run? `disagg destroy {name}`), or use --use-existing");
            }
        }

        Directory.CreateDirectory(dir);
        var image = Path.Combine(dir, "blk-verify.img");
        using (var f = File.Create(image))
        {
            f.SetLength(8L << 20);
        }

        var count = 10_000_000.ToString(CultureInfo.InvariantCulture);
        var peers = new[] { (PingA, "10.77.0.1", "10.77.0.2", "01"), (PingB, "10.77.0.2", "10.77.0.1", "02") };
        foreach (var (name, ip, peer, mac) in peers)
        {
            await CreateAsync(name, $"app=ping host={peer} count={count} interval={PingIntervalMs} ip={ip} net-timeout=300", $"vif = [ 'mac=00:16:3e:77:00:{mac}, bridge=xenbr0' ]", cancel).ConfigureAwait(false);
        }

        await CreateAsync(Blk, "app=blk-verify sectors=2048 depth=8 seconds=1000000 blk-timeout=300000", $"disk = [ 'format=raw, vdev=xvda, access=rw, target={image}' ]", cancel).ConfigureAwait(false);
    }

    /// <summary>Destroys what this run started (each once; a failure is reported, the others still go).</summary>
    public async Task<IReadOnlyList<string>> StopAsync(CancellationToken cancel)
    {
        var problems = new List<string>();
        foreach (var name in _started)
        {
            try
            {
                await host.DestroyAsync(name, cancel).ConfigureAwait(false);
            }
            catch (CliException e)
            {
                problems.Add($"destroy {name}: {e.Message}");
            }
        }

        _started.Clear();
        return problems;
    }

    private async Task CreateAsync(string name, string cmdline, string device, CancellationToken cancel)
    {
        var cfg = Path.Combine(dir, name + ".cfg");
        await File.WriteAllTextAsync(cfg, $"""
            name = "{name}"
            kernel = "{pvos}"
            memory = 8
            cmdline = "{cmdline}"
            {device}
            on_poweroff = "preserve"
            on_crash = "preserve"

            """, cancel).ConfigureAwait(false);
        await host.CreateAsync(cfg, cancel).ConfigureAwait(false);
        _started.Add(name);
    }
}
