using System.CommandLine;
using System.Text.Json;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>`disagg info` (the host) and `disagg dmesg` (the kernel's message log).</summary>
internal static class HostInfoCommands
{
    public static IEnumerable<Command> Build()
    {
        yield return Info();
        yield return Dmesg();
    }

    private static Command Info()
    {
        var json = Verb.JsonOption();
        var command = new Command("info", "the host: pCPUs, memory total/free, versions, state dir, sockets") { json };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var info = await Verb.CallAsync<InfoReply>(parse, new InfoRequest(), cancel).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(info, ToolstackJsonContext.Default.InfoReply));
                return 0;
            }

            // xl info's "key : value" layout, so habits (and greps) carry over.
            Console.WriteLine($"nr_cpus                : {info.Pcpus}");
            Console.WriteLine($"total_memory           : {info.TotalMemoryMiB}");
            Console.WriteLine($"free_memory            : {info.FreeMemoryMiB}");
            Console.WriteLine($"xen_version            : {info.XenInterface}");
            Console.WriteLine($"disagg_kernel_version  : {info.KernelVersion}");
            Console.WriteLine($"toolstack_version      : {info.ToolstackVersion}");
            Console.WriteLine($"uptime_s               : {info.UptimeMs / 1000}");
            Console.WriteLine($"state_dir              : {info.StateDir}");
            foreach (var (name, path) in info.Sockets)
            {
                Console.WriteLine($"{(name + "_socket"),-23}: {path}");
            }

            return 0;
        });
        return command;
    }

    private static Command Dmesg()
    {
        var command = new Command("dmesg", "the kernel's message log (guest console_io output shows as \"(dN) ...\")");
        Verb.SetAction(command, async (parse, cancel) =>
        {
            await using var client = await DaemonClient.ConnectAsync(Verb.State(parse), cancel).ConfigureAwait(false);
            long offset = 0;
            using var stdout = Console.OpenStandardOutput();
            while (true)
            {
                var chunk = await client.CallAsync<DmesgReply>(new DmesgRequest(offset), cancel).ConfigureAwait(false);
                if (chunk.Missed > 0 && offset == 0)
                {
                    Console.WriteLine($"[... {chunk.Missed} bytes of older messages were overwritten]");
                }

                if (chunk.Text.Length == 0)
                {
                    return 0;
                }

                await stdout.WriteAsync(chunk.Text, cancel).ConfigureAwait(false);
                offset = chunk.NextOffset;
            }
        });
        return command;
    }
}
