using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Disagg.Toolstack.Protocol;
using Spectre.Console;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// `disagg save DOMAIN FILE [-c|-p]` and `disagg restore FILE [-p] [--name N]`, as xl's: save suspends the
/// guest, writes its image and destroys it (-c: it resumes and runs on; -p: it resumes paused); restore
/// creates a domain from an image and runs it (-p: paused). On a terminal a progress bar shows the MiB
/// written; otherwise a plain line per phase and per second; --json prints one object at the end. Both end
/// with the total time and the image's size. docs/SAVE-RESTORE.md.
/// </summary>
internal static class SaveCommands
{
    public static IEnumerable<Command> Build() => [Save(), Restore()];

    private static Command Save()
    {
        var domain = Verb.DomainArgument();
        var file = new Argument<string>("FILE") { Description = "the image to write (replaced if it exists)" };
        var running = new Option<bool>("-c") { Description = "leave the domain running after saving it (a checkpoint)" };
        var paused = new Option<bool>("-p") { Description = "leave the domain paused after saving it" };
        var timeout = new Option<int>("--timeout") { Description = "seconds a PV guest gets to suspend itself", DefaultValueFactory = _ => 30 };
        var json = Verb.JsonOption();
        var command = new Command("save", "save a domain's state to a file (suspend, write, destroy; -c/-p keep it)") { domain, file, running, paused, timeout, json };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            if (parse.GetValue(running) && parse.GetValue(paused))
            {
                throw CliException.Usage("-c and -p exclude each other: -c leaves the domain running, -p paused");
            }

            if (parse.GetValue(timeout) <= 0)
            {
                throw CliException.Usage("--timeout must be a positive number of seconds");
            }

            var after = parse.GetValue(running) ? SaveAfter.Running : parse.GetValue(paused) ? SaveAfter.Paused : SaveAfter.Destroy;
            var request = new SaveRequest(parse.GetValue(domain)!, Path.GetFullPath(parse.GetValue(file)!), after, parse.GetValue(timeout));
            var reply = await RunAsync<SavedReply>(parse, request, parse.GetValue(json), "save", cancel).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                WriteJson(w =>
                {
                    w.WriteNumber("domid", reply.DomainId);
                    w.WriteString("name", reply.Name);
                    w.WriteString("file", reply.Path);
                    w.WriteNumber("bytes", reply.Bytes);
                    w.WriteNumber("memory_bytes", reply.MemoryBytes);
                    w.WriteNumber("elapsed_ms", reply.ElapsedMs);
                    w.WriteNumber("suspend_ms", reply.SuspendMs);
                    w.WriteString("after", reply.After.ToString().ToLowerInvariant());
                });
            }
            else
            {
                var then = reply.After switch { SaveAfter.Running => "it runs on", SaveAfter.Paused => "it is paused", _ => "it was destroyed" };
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"saved domain '{reply.Name}' (id {reply.DomainId}) to {reply.Path}: {Mib(reply.Bytes)} MiB ({Mib(reply.MemoryBytes)} MiB of memory) in {reply.ElapsedMs / 1000.0:0.000} s, {reply.SuspendMs / 1000.0:0.000} s of it suspending; {then}"));
            }

            return 0;
        });
        return command;
    }

    private static Command Restore()
    {
        var file = new Argument<string>("FILE") { Description = "an image written by `disagg save`" };
        var paused = new Option<bool>("-p") { Description = "leave the restored domain paused" };
        var name = new Option<string?>("--name") { Description = "the restored domain's name (default: the saved one)" };
        var json = Verb.JsonOption();
        var command = new Command("restore", "create a domain from a saved image") { file, paused, name, json };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var path = Path.GetFullPath(parse.GetValue(file)!);
            if (Directory.Exists(path))
            {
                throw CliException.Usage($"{path} is a directory, not an image");
            }

            if (!File.Exists(path))
            {
                throw new CliException($"image {path} does not exist");
            }

            var reply = await RunAsync<RestoredReply>(parse, new RestoreRequest(path, parse.GetValue(paused), parse.GetValue(name)), parse.GetValue(json), "restore", cancel).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                WriteJson(w =>
                {
                    w.WriteNumber("domid", reply.DomainId);
                    w.WriteString("name", reply.Name);
                    w.WriteString("file", reply.Path);
                    w.WriteNumber("bytes", reply.Bytes);
                    w.WriteNumber("elapsed_ms", reply.ElapsedMs);
                    w.WriteBoolean("paused", reply.Paused);
                });
            }
            else
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"restored domain '{reply.Name}' (id {reply.DomainId}) from {reply.Path}: {Mib(reply.Bytes)} MiB in {reply.ElapsedMs / 1000.0:0.000} s{(reply.Paused ? ", paused" : "")}"));
            }

            return 0;
        });
        return command;
    }

    /// <summary>Sends the request, shows its progress messages, returns the final reply.</summary>
    private static async Task<T> RunAsync<T>(ParseResult parse, DaemonMessage request, bool json, string verb, CancellationToken cancel)
        where T : DaemonMessage
    {
        await using var client = await DaemonClient.ConnectAsync(Verb.State(parse), cancel).ConfigureAwait(false);
        var first = await client.RequestAsync(request, cancel).ConfigureAwait(false);
        if (json)
        {
            return await FinishAsync<T>(client, first, _ => { }, cancel).ConfigureAwait(false);
        }

        if (Console.IsOutputRedirected)
        {
            var lastLine = 0L;
            string? lastPhase = null;
            return await FinishAsync<T>(client, first, p =>
            {
                // A line per phase and at most one a second: a log, not a screen.
                var now = Environment.TickCount64;
                if (p.Phase != lastPhase || now - lastLine >= 1000)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{verb}: {p.Phase} {Mib(p.Bytes)} MiB{(p.TotalBytes > 0 ? $" of {Mib(p.TotalBytes)} MiB" : "")}"));
                    lastPhase = p.Phase;
                    lastLine = now;
                }
            }, cancel).ConfigureAwait(false);
        }

        T? result = null;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(verb);
                result = await FinishAsync<T>(client, first, p =>
                {
                    // Memory compresses: the memory size is an upper bound on the image, so the bar may end short of 100 %.
                    task.MaxValue = Math.Max(1, p.TotalBytes / (1024.0 * 1024));
                    task.Value = Math.Min(task.MaxValue, p.Bytes / (1024.0 * 1024));
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"{verb}: {p.Phase} {Mib(p.Bytes)} MiB");
                }, cancel).ConfigureAwait(false);
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
        return result!;
    }

    private static async Task<T> FinishAsync<T>(DaemonClient client, DaemonMessage first, Action<SaveProgress> show, CancellationToken cancel)
        where T : DaemonMessage
    {
        var message = first;
        while (message is SaveProgress p)
        {
            show(p);
            message = await client.Connection.ReceiveAsync(cancel).ConfigureAwait(false)
                ?? throw new CliException("the host daemon closed the connection (is the host going down?)");
        }

        return message switch
        {
            T t => t,
            ErrorReply e => throw new CliException(e.Message),
            _ => throw new CliException($"unexpected reply {message.GetType().Name} from the host daemon"),
        };
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture);

    private static void WriteJson(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        Console.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }
}
