using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Disagg.Toolstack.Protocol;
using Spectre.Console;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// `disagg top` (xentop): per-domain CPU % from the change in CPU time between two lists, with
/// memory and vCPUs; redrawn in place every DELAY seconds until Ctrl-C, or printed once (-b/--once).
/// </summary>
internal static class TopCommand
{
    public static Command Build()
    {
        var once = new Option<bool>("--once", "-b") { Description = "batch mode: measure one interval, print, exit" };
        var delay = new Option<double>("--delay", "-d") { Description = "seconds between updates", DefaultValueFactory = _ => 1.0 };
        var json = Verb.JsonOption();
        var command = new Command("top", "live per-domain CPU %, memory and vCPUs") { once, delay, json };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var interval = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(delay), 0.05, 3600));
            await using var client = await DaemonClient.ConnectAsync(Verb.State(parse), cancel).ConfigureAwait(false);
            var before = await client.CallAsync<DomainListReply>(new ListRequest(), cancel).ConfigureAwait(false);
            if (parse.GetValue(once) || parse.GetValue(json) || Console.IsOutputRedirected)
            {
                await Task.Delay(interval, cancel).ConfigureAwait(false);
                var after = await client.CallAsync<DomainListReply>(new ListRequest(), cancel).ConfigureAwait(false);
                var rows = Rows(before, after);
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(rows, ToolstackJsonContext.Default.IReadOnlyListTopRow));
                }
                else
                {
                    Tables.Console().Write(Render(rows));
                }

                return 0;
            }

            await AnsiConsole.Live(Render([])).StartAsync(async live =>
            {
                while (!cancel.IsCancellationRequested)
                {
                    await Task.Delay(interval, cancel).ConfigureAwait(false);
                    var after = await client.CallAsync<DomainListReply>(new ListRequest(), cancel).ConfigureAwait(false);
                    live.UpdateTarget(Render(Rows(before, after)));
                    before = after;
                }
            }).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static IReadOnlyList<TopRow> Rows(DomainListReply before, DomainListReply after)
    {
        var elapsed = Math.Max(1, after.SampledNs - before.SampledNs);
        var previous = before.Domains.ToDictionary(d => (d.Id, d.Name), d => d.CpuTimeNs);
        return [.. after.Domains.Select(d => new TopRow(
            d.Name,
            d.Id,
            d.State,
            Math.Round(100.0 * Math.Max(0, d.CpuTimeNs - previous.GetValueOrDefault((d.Id, d.Name), d.CpuTimeNs)) / elapsed, 1),
            d.CpuTimeNs,
            d.MemoryMiB,
            d.MaxMemoryMiB,
            d.Vcpus))];
    }

    // Numbers align right, as in xentop, so a column of figures reads by magnitude.
    private static readonly string[] Headers = ["NAME", "ID", "STATE", "CPU(sec)", "CPU(%)", "MEM(MiB)", "MAXMEM(MiB)", "VCPUS"];
    private static readonly HashSet<int> NumberColumns = [1, 3, 4, 5, 6, 7];

    private static Table Render(IReadOnlyList<TopRow> rows) => Tables.Build(
        Headers,
        rows.Select(r => (IReadOnlyList<string>)[
            r.Name,
            r.Id.ToString(CultureInfo.InvariantCulture),
            r.State,
            (r.CpuTimeNs / 1e9).ToString("F1", CultureInfo.InvariantCulture),
            r.CpuPercent.ToString("F1", CultureInfo.InvariantCulture),
            r.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            r.MaxMemoryMiB.ToString(CultureInfo.InvariantCulture),
            r.Vcpus.ToString(CultureInfo.InvariantCulture)]),
        NumberColumns);
}
