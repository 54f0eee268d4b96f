using System.Diagnostics;
using Disagg.Toolstack.Cli;
using Disagg.Toolstack.Fault.Report;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Fault;

/// <summary>
/// The host's resources after a run against before it: once every service serves again and the workload is
/// gone, the kernel's domains, bound event ports, services' grant maps and free memory must be back where they
/// were. Teardown is asynchronous (a backend unmaps after it sees the frontend go), so it waits up to 30 s.
/// </summary>
internal static class LeakCheck
{
    public static HostCountersSnapshot Snapshot(HostCountersReply c) => new(c.Domains, c.Services, c.EventPorts, c.GrantMaps, c.SharedPages, c.FreeMemoryKiB);

    /// <summary>Waits (up to 30 s) for the counters to come back to where they were before the workload; what does not is a leak.</summary>
    public static async Task<(CountersCheck? Check, string? Breach)> RunAsync(HostLink host, HostCountersSnapshot before)
    {
        HostCountersSnapshot after;
        var deadline = Stopwatch.StartNew();
        try
        {
            do
            {
                await WaitServicesRunningAsync(host).ConfigureAwait(false);
                after = Snapshot(await host.CountersAsync(CancellationToken.None).ConfigureAwait(false));
                if (Leaks(before, after).Count == 0)
                {
                    break;
                }

                await Task.Delay(500).ConfigureAwait(false);
            }
            while (deadline.Elapsed < TimeSpan.FromSeconds(30));
        }
        catch (CliException e)
        {
            return (null, "cannot read the kernel's counters: " + e.Message);
        }

        var leaks = Leaks(before, after);
        return (new CountersCheck(before, after, leaks), leaks.Count > 0 ? string.Join("; ", leaks) : null);
    }

    private static async Task WaitServicesRunningAsync(HostLink host)
    {
        for (var i = 0; i < 100; i++)
        {
            var rows = await host.ServicesAsync(CancellationToken.None).ConfigureAwait(false);
            if (rows.All(r => r.State is "running" or "failed" or "stopped"))
            {
                return;
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    public static List<string> Leaks(HostCountersSnapshot before, HostCountersSnapshot after)
    {
        var leaks = new List<string>();
        if (after.Domains > before.Domains)
        {
            leaks.Add($"{after.Domains - before.Domains} domains");
        }

        if (after.EventPorts > before.EventPorts)
        {
            leaks.Add($"{after.EventPorts - before.EventPorts} event ports");
        }

        if (after.GrantMaps > before.GrantMaps)
        {
            leaks.Add($"{after.GrantMaps - before.GrantMaps} grant maps");
        }

        if (after.FreeMemoryKiB < before.FreeMemoryKiB)
        {
            leaks.Add($"{before.FreeMemoryKiB - after.FreeMemoryKiB} KiB of host memory");
        }

        return leaks;
    }

}
