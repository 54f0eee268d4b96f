using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>`disagg service list|restart|kill|stop|cont|segv|swap|add`: the supervised service domains.</summary>
internal static class ServiceCommands
{
    public static Command Build() => new("service", "the service domains the supervisor keeps running")
    {
        List(),
        Action("restart", "stop a service and start it again (a planned restart, not counted against its restart limit)", ServiceAction.Restart),
        Action("kill", "SIGKILL a service, for fault injection: the supervisor sees a crash and restarts it", ServiceAction.Kill),
        Action("stop", "SIGSTOP a service, for fault injection: it hangs until `service cont`", ServiceAction.Stop),
        Action("cont", "SIGCONT a stopped service", ServiceAction.Continue),
        Action("segv", "send a service SIGSEGV with kill(): a .NET service (JIT or NativeAOT) survives a SIGSEGV it did not cause; on a --fault-injection host `disagg fault inject NAME segv` is a real crash", ServiceAction.Segv),
        Swap(),
        Add(),
    };

    public static void PrintTable(IReadOnlyList<ServiceRow> services) => Tables.Print(
        ["Name", "Domain", "PID", "State", "Uptime(s)", "Restarts", "Swaps", "RSS(MiB)", "Last exit"],
        services.Select(s => (IReadOnlyList<string>)
        [
            s.Name,
            s.DomainId.ToString(CultureInfo.InvariantCulture),
            s.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-",
            s.State,
            (s.UptimeMs / 1000.0).ToString("F1", CultureInfo.InvariantCulture),
            s.Restarts.ToString(CultureInfo.InvariantCulture),
            s.Swaps.ToString(CultureInfo.InvariantCulture),
            (s.RssBytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture),
            s.LastExit ?? "",
        ]),
        new HashSet<int> { 1, 2, 4, 5, 6, 7 });

    private static Command List()
    {
        var json = Verb.JsonOption();
        var command = new Command("list", "each service: domain id, pid, state, uptime, restarts, RSS") { json };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var reply = await Verb.CallAsync<ServiceListReply>(parse, new ServiceListRequest(), cancel).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(reply.Services, ToolstackJsonContext.Default.IReadOnlyListServiceRow));
            }
            else
            {
                PrintTable(reply.Services);
            }

            return 0;
        });
        return command;
    }

    private static Command Swap()
    {
        var service = new Argument<string>("NAME") { Description = "service name (see `disagg service list`)" };
        var binary = new Option<string>("--binary", "-b") { Description = "the new program; it gets the same arguments, environment, domain id and state dir", Required = true };
        var timeout = new Option<int>("--timeout", "-t") { Description = "seconds to wait for the new binary's ready line (default 30)", DefaultValueFactory = _ => 30 };
        var command = new Command("swap", "replace a running service's binary: a planned stop, then the new binary under the same domain id and state dir (guests keep running; a swap is not counted as a restart)") { service, binary, timeout };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var seconds = parse.GetValue(timeout);
            if (seconds is < 1 or > 3600)
            {
                throw new CliException($"--timeout {seconds}: must be 1..3600 seconds");
            }

            var ok = await Waiting.WhileAsync(
                $"swapping {parse.GetValue(service)} to {parse.GetValue(binary)}",
                () => Verb.CallAsync<OkReply>(parse, new ServiceSwapRequest(parse.GetValue(service)!, Path.GetFullPath(parse.GetValue(binary)!), seconds), cancel)).ConfigureAwait(false);
            Console.WriteLine(ok.Message);
            return 0;
        });
        return command;
    }

    private static Command Add()
    {
        var name = new Argument<string>("NAME") { Description = "the new driver domain's name; devices choose it with backend=NAME" };
        var kind = new Option<string>("--kind", "-k") { Description = "netback or blkback", Required = true };
        kind.AcceptOnlyFromAmong("netback", "blkback");
        var command = new Command("add", "start one more driver domain (its own process, domain id, state dir; a netback has its own bridges) that vif/disk specs place devices on with backend=NAME") { name, kind };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var ok = await Waiting.WhileAsync(
                $"starting {parse.GetValue(name)}",
                () => Verb.CallAsync<OkReply>(parse, new ServiceAddRequest(parse.GetValue(name)!, parse.GetValue(kind)!), cancel)).ConfigureAwait(false);
            Console.WriteLine(ok.Message);
            return 0;
        });
        return command;
    }

    private static Command Action(string name, string description, ServiceAction action)
    {
        var service = new Argument<string>("NAME") { Description = "service name (see `disagg service list`)" };
        var command = new Command(name, description) { service };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var ok = await Verb.CallAsync<OkReply>(parse, new ServiceActionRequest(parse.GetValue(service)!, action), cancel).ConfigureAwait(false);
            Console.WriteLine(ok.Message);
            return 0;
        });
        return command;
    }
}
