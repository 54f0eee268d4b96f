using System.Diagnostics;
using System.Text.Json;
using Disagg.Control.Messages;
using Disagg.Toolstack.Cli;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Daemon.Guests;

/// <summary>
/// `disagg list`'s rows: Domain-0 (this daemon) first, then every domain the kernel has, in xl's
/// columns; with <c>-l</c> each guest this toolstack created also carries its config as JSON
/// (hot-plugged devices included), as xl list -l prints libxl's domain config.
/// </summary>
internal sealed class DomainTable(GuestRegistry guests, KernelLink kernel)
{
    public async Task<DomainListReply> ListAsync(bool withConfig, CancellationToken cancel)
    {
        var list = await kernel.Client.CallAsync<DomainList>(new ListDomains(), cancel).ConfigureAwait(false);
        var now = Environment.TickCount64;
        var rows = new List<DomainRow> { ControlDomainRow() };
        foreach (var d in list.Domains.OrderBy(d => d.DomainId))
        {
            var guest = guests.Find(d.DomainId);
            var uptime = guest is not null ? now - guest.CreatedAtMs : 0;
            var config = withConfig && guest is not null ? JsonSerializer.Serialize(guest.Config, ToolstackJsonContext.Default.DomainConfig) : null;
            rows.Add(new DomainRow(d.Name, d.DomainId, d.MemoryKiB / 1024, d.MaxMemoryKiB / 1024, d.VcpusOnline, StateColumn(d.State), d.CpuTimeNs, uptime, config, d.CrashReason.Length > 0 ? d.CrashReason : null));
        }

        return new DomainListReply(rows, Stopwatch.GetTimestamp() * (1_000_000_000 / Stopwatch.Frequency));
    }

    /// <summary>xl's six state flags (running, blocked, paused, shutdown, crashed, dying), the kernel's one letter set among them.</summary>
    private static string StateColumn(string letter) =>
        string.Concat("rbpscd".Select(c => c == letter[0] ? c : '-'));

    private static DomainRow ControlDomainRow()
    {
        using var self = Process.GetCurrentProcess();
        return new DomainRow("Domain-0", 0, self.WorkingSet64 >> 20, 0, Environment.ProcessorCount, "r-----", (long)self.TotalProcessorTime.TotalNanoseconds, (long)(DateTime.Now - self.StartTime).TotalMilliseconds);
    }
}
