using System.CommandLine;
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
            var keys = InfoKeys.Of(info);
            if (parse.GetValue(json))
            {
                Console.WriteLine(InfoKeys.Json(keys));
                return 0;
            }

            InfoKeys.PrintText(keys);
            return 0;
        });
        return command;
    }

    private static Command Dmesg()
    {
        var clear = new Option<bool>("--clear", "-c") { Description = "clear what was printed, as xl dmesg -c (later messages stay)" };
        var command = new Command("dmesg", "the kernel's message log (guest console_io output shows as \"(dN) ...\")") { clear };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var clearing = parse.GetValue(clear);
            await using var client = await DaemonClient.ConnectAsync(Verb.State(parse), cancel).ConfigureAwait(false);
            long offset = 0;
            using var stdout = Console.OpenStandardOutput();
            while (true)
            {
                var chunk = await client.CallAsync<DmesgReply>(new DmesgRequest(offset, clearing), cancel).ConfigureAwait(false);
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
