using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>vcpu-set, vcpu-pin, vcpu-list and sched-credit, as in xl.</summary>
internal static class VcpuCommands
{
    public static IEnumerable<Command> Build()
    {
        var count = new Argument<int>("COUNT") { Description = "vCPUs to have online (1 .. maxvcpus)" };
        yield return Verb.DomainVerb("vcpu-set", "set how many of a domain's vCPUs are online", (d, p) => new VcpuSetRequest(d, p.GetValue(count)), count);
        var vcpu = new Argument<string>("VCPU") { Description = "vCPU number, or 'all'" };
        var cpus = new Argument<string>("CPUS") { Description = "pCPUs in xl's syntax: 'all', '0-3', '0,2', '^1'" };
        yield return Verb.DomainVerb("vcpu-pin", "set a vCPU's hard affinity", (d, p) => new VcpuPinRequest(d, ParseVcpu(p.GetValue(vcpu)!), p.GetValue(cpus)!), vcpu, cpus);
        yield return VcpuList();
        yield return SchedCredit();
    }

    private static int ParseVcpu(string text) => text == "all"
        ? -1
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new CliException($"vCPU '{text}' is not a number or 'all'");

    private static Command VcpuList()
    {
        var json = Verb.JsonOption();
        var domain = new Argument<string?>("DOMAIN") { Description = "only this domain (name or id)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("vcpu-list", "each vCPU: where it runs, its state, CPU time and affinity") { domain, json };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var reply = await Verb.CallAsync<VcpuListReply>(parse, new VcpuListRequest(parse.GetValue(domain)), cancel).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(reply.Vcpus, ToolstackJsonContext.Default.IReadOnlyListVcpuRow));
                return 0;
            }

            Tables.Print(
                ["Name", "ID", "VCPU", "CPU", "State", "Time(s)", "Affinity"],
                reply.Vcpus.Select(v => (IReadOnlyList<string>)
                [
                    v.Name,
                    v.Id.ToString(CultureInfo.InvariantCulture),
                    v.Vcpu.ToString(CultureInfo.InvariantCulture),
                    v.Online && v.Pcpu >= 0 ? v.Pcpu.ToString(CultureInfo.InvariantCulture) : "-",
                    v.Online ? v.State : "--p",
                    (v.CpuTimeNs / 1e9).ToString("F1", CultureInfo.InvariantCulture),
                    v.Affinity,
                ]),
                new HashSet<int> { 1, 2, 3, 5 });
            return 0;
        });
        return command;
    }

    private static Command SchedCredit()
    {
        var json = Verb.JsonOption();
        var domain = new Option<string?>("--domain", "-d") { Description = "the domain to show or change (name or id)" };
        var weight = new Option<int?>("--weight", "-w") { Description = "credit weight, 1..65535 (default 256)" };
        var cap = new Option<int?>("--cap", "-c") { Description = "cap in % of one pCPU, 0 = none" };
        var command = new Command("sched-credit", "show or set credit scheduler weight and cap") { domain, weight, cap, json };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            if (parse.GetValue(domain) is null && (parse.GetValue(weight) is not null || parse.GetValue(cap) is not null))
            {
                throw new CliException("-w and -c need -d DOMAIN");
            }

            var reply = await Verb.CallAsync<SchedCreditReply>(parse, new SchedCreditRequest(parse.GetValue(domain), parse.GetValue(weight), parse.GetValue(cap)), cancel).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(reply.Domains, ToolstackJsonContext.Default.IReadOnlyListSchedCreditRow));
                return 0;
            }

            Tables.Print(
                ["Name", "ID", "Weight", "Cap"],
                reply.Domains.Select(d => (IReadOnlyList<string>)[d.Name, d.Id.ToString(CultureInfo.InvariantCulture), d.Weight.ToString(CultureInfo.InvariantCulture), d.Cap.ToString(CultureInfo.InvariantCulture)]),
                new HashSet<int> { 1, 2, 3 });
            return 0;
        });
        return command;
    }
}
