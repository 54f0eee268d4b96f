using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>xl's verbs on domains: list, pause, unpause, shutdown, reboot, destroy, mem-set, mem-max, uptime.</summary>
internal static class DomainCommands
{
    public static IEnumerable<Command> Build()
    {
        yield return List();
        yield return Verb.DomainVerb("pause", "pause a domain", (d, _) => new DomainActionRequest(d, DomainAction.Pause, false));
        yield return Verb.DomainVerb("unpause", "unpause a paused domain", (d, _) => new DomainActionRequest(d, DomainAction.Unpause, false));
        var waitShutdown = WaitOption();
        yield return Verb.DomainVerb("shutdown", "shut a domain down; then its on_poweroff action applies", (d, p) => new DomainActionRequest(d, DomainAction.Shutdown, p.GetValue(waitShutdown)), waitShutdown);
        var waitReboot = WaitOption();
        yield return Verb.DomainVerb("reboot", "reboot a domain; then its on_reboot action applies", (d, p) => new DomainActionRequest(d, DomainAction.Reboot, p.GetValue(waitReboot)), waitReboot);
        yield return Verb.DomainVerb("destroy", "destroy a domain at once", (d, _) => new DomainActionRequest(d, DomainAction.Destroy, false));
        var target = MemoryArgument("the balloon target");
        yield return Verb.DomainVerb("mem-set", "set a domain's memory target (the guest's balloon driver reaches it)", (d, p) => new MemoryRequest(d, ParseMiB(p.GetValue(target)!), null), target);
        var max = MemoryArgument("the most memory the domain may have");
        yield return Verb.DomainVerb("mem-max", "set a domain's maximum memory", (d, p) => new MemoryRequest(d, null, ParseMiB(p.GetValue(max)!)), max);
        yield return Uptime();
    }

    /// <summary>xl's memory sizes: a number of MiB, or with a suffix b, k, m, g, t.</summary>
    public static long ParseMiB(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        var unit = t.Length > 0 && char.IsLetter(t[^1]) ? t[^1] : 'm';
        var digits = char.IsLetter(t.Length > 0 ? t[^1] : '0') ? t[..^1] : t;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            throw new CliException($"'{text}' is not a memory size (MiB, or with a suffix k, m, g)");
        }

        return unit switch
        {
            'b' => n >> 20,
            'k' => n >> 10,
            'm' => n,
            'g' => n << 10,
            't' => n << 20,
            _ => throw new CliException($"'{text}': unknown size suffix '{unit}'"),
        };
    }

    public static void PrintList(IReadOnlyList<DomainRow> rows) => Tables.Print(
        ["Name", "ID", "Mem", "VCPUs", "State", "Time(s)"],
        rows.Select(d => (IReadOnlyList<string>)
        [
            d.Name,
            d.Id.ToString(CultureInfo.InvariantCulture),
            d.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            d.Vcpus.ToString(CultureInfo.InvariantCulture),
            d.State,
            (d.CpuTimeNs / 1e9).ToString("F1", CultureInfo.InvariantCulture),
        ]),
        new HashSet<int> { 1, 2, 3, 5 });

    private static Option<bool> WaitOption() => new("--wait", "-w") { Description = "wait until the domain has shut down and its on_* action was carried out" };

    private static Argument<string> MemoryArgument(string what) => new("MEM") { Description = $"{what}: MiB, or with a suffix k, m, g" };

    private static Command List()
    {
        var json = Verb.JsonOption();
        var domains = new Argument<string[]>("DOMAIN") { Description = "only these domains (name or id)", Arity = ArgumentArity.ZeroOrMore };
        var longForm = new Option<bool>("--long", "-l") { Description = "each domain with its config, as JSON (xl list -l)" };
        var command = new Command("list", "list domains: Name, ID, Mem, VCPUs, State, Time(s)") { domains, json, longForm };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var reply = await Verb.CallAsync<DomainListReply>(parse, new ListRequest(parse.GetValue(longForm)), cancel).ConfigureAwait(false);
            var wanted = parse.GetValue(domains) ?? [];
            var rows = wanted.Length == 0
                ? reply.Domains
                : [.. reply.Domains.Where(d => wanted.Contains(d.Name) || wanted.Contains(d.Id.ToString(CultureInfo.InvariantCulture)))];
            var missing = wanted.FirstOrDefault(w => !rows.Any(d => d.Name == w || d.Id.ToString(CultureInfo.InvariantCulture) == w));
            if (missing is not null)
            {
                throw new CliException($"domain '{missing}': no such domain");
            }

            if (parse.GetValue(longForm))
            {
                Console.WriteLine(LongList(rows));
            }
            else if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(rows, ToolstackJsonContext.Default.IReadOnlyListDomainRow));
            }
            else
            {
                PrintList(rows);
                foreach (var d in rows.Where(d => d.Reason is not null))
                {
                    Console.WriteLine($"{d.Name}: {d.Reason}"); // why the kernel crashed it
                }
            }

            return 0;
        });
        return command;
    }

    /// <summary>xl list -l's shape: an array of {domid, name, config}; config is null for a domain this toolstack did not create (Domain-0, services).</summary>
    private static string LongList(IReadOnlyList<DomainRow> rows)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var d in rows)
            {
                w.WriteStartObject();
                w.WriteNumber("domid", d.Id);
                w.WriteString("name", d.Name);
                w.WritePropertyName("config");
                if (d.ConfigJson is { } config)
                {
                    w.WriteRawValue(config);
                }
                else
                {
                    w.WriteNullValue();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static Command Uptime()
    {
        var json = Verb.JsonOption();
        var command = new Command("uptime", "how long each domain has been running") { json };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var reply = await Verb.CallAsync<DomainListReply>(parse, new ListRequest(), cancel).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(reply.Domains, ToolstackJsonContext.Default.IReadOnlyListDomainRow));
                return 0;
            }

            Tables.Print(
                ["Name", "ID", "Uptime"],
                reply.Domains.Select(d => (IReadOnlyList<string>)[d.Name, d.Id.ToString(CultureInfo.InvariantCulture), TimeSpan.FromMilliseconds(d.UptimeMs).ToString(@"d\:hh\:mm\:ss", CultureInfo.InvariantCulture)]),
                new HashSet<int> { 1 });
            return 0;
        });
        return command;
    }
}
