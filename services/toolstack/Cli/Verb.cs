using System.CommandLine;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>What every verb shares: --state-dir, --json, error reporting without stack traces, one request to the daemon.</summary>
internal static class Verb
{
    /// <summary>Which host: --state-dir, else DISAGG_STATE_DIR, else /tmp/disagg-$UID. Recursive: every verb takes it.</summary>
    public static readonly Option<string?> StateDirOption = new("--state-dir")
    {
        Description = $"the host's state dir (default: ${StateDir.EnvironmentVariable}, else /tmp/disagg-$UID)",
        Recursive = true,
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "print JSON for scripts" };

    public static Argument<string> DomainArgument() => new("DOMAIN") { Description = "domain name or id" };

    public static StateDir State(ParseResult parse) => StateDir.Resolve(parse.GetValue(StateDirOption));

    /// <summary>The signals of this process, watched for as long as the command line runs (<see cref="DisaggCommand.RunAsync"/>).</summary>
    public static Interruption? Signals { get; set; }

    /// <summary>
    /// Runs a verb: a <see cref="CliException"/> becomes "disagg VERB: message" on stderr and its exit
    /// code; Ctrl-C or SIGTERM end it quietly with 130 or 143 (a verb that <paramref name="handlesSignals"/>
    /// itself, the host daemon going down in order, returns its own code when it returns).
    /// </summary>
    public static void SetAction(Command command, Func<ParseResult, CancellationToken, Task<int>> action, bool handlesSignals = false) =>
        command.SetAction(async (parse, cancel) =>
        {
            using var linked = Signals is { } s ? CancellationTokenSource.CreateLinkedTokenSource(cancel, s.Token) : CancellationTokenSource.CreateLinkedTokenSource(cancel);
            int code;
            try
            {
                code = await action(parse, linked.Token).ConfigureAwait(false);
            }
            catch (Exception) when (Signals?.ExitCode is > 0)
            {
                return Signals.ExitCode; // whatever the cancellation broke, the user asked for it
            }
            catch (CliException e)
            {
                await Console.Error.WriteLineAsync($"disagg {Name(parse)}: {e.Message}").ConfigureAwait(false);
                return e.ExitCode;
            }
            catch (OperationCanceledException)
            {
                return ExitCodes.Interrupted;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Users never see a stack trace; a bug of ours still says plainly what went wrong.
                await Console.Error.WriteLineAsync($"disagg {Name(parse)}: internal error: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
                return ExitCodes.InternalError;
            }

            return !handlesSignals && Signals?.ExitCode is > 0 and var signalled ? signalled : code;
        });

    /// <summary>The verb as typed: "host up", "list".</summary>
    private static string Name(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r is not null && r.Command is not RootCommand; r = r.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, r.Command.Name);
        }

        return string.Join(' ', names);
    }

    /// <summary>One request to the host of this state dir; the reply (errors already turned into <see cref="CliException"/>).</summary>
    public static async Task<T> CallAsync<T>(ParseResult parse, DaemonMessage request, CancellationToken cancel)
        where T : DaemonMessage
    {
        await using var client = await DaemonClient.ConnectAsync(State(parse), cancel).ConfigureAwait(false);
        return await client.CallAsync<T>(request, cancel).ConfigureAwait(false);
    }

    /// <summary>A verb on one domain whose daemon reply is an <see cref="OkReply"/>; prints nothing on success, as xl does.</summary>
    public static Command DomainVerb(string name, string description, Func<string, ParseResult, DaemonMessage> request, params Symbol[] extra)
    {
        var domain = DomainArgument();
        var command = new Command(name, description) { domain };
        foreach (var s in extra)
        {
            switch (s)
            {
                case Option o:
                    command.Options.Add(o);
                    break;
                case Argument a:
                    command.Arguments.Add(a);
                    break;
            }
        }

        SetAction(command, async (parse, cancel) =>
        {
            await CallAsync<OkReply>(parse, request(parse.GetValue(domain)!, parse), cancel).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
