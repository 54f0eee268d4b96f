using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Disagg.Toolstack.Protocol;
using Spectre.Console;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// `disagg migrate DOMAIN TARGET [--live|--no-live]`: moves a running guest to the host daemon listening at
/// TARGET (host:port, `host up --listen`). A progress bar on a terminal (rounds, MiB sent, dirty rate),
/// plain lines otherwise, --json for scripts; at the end total time, downtime, pages sent, rounds.
/// </summary>
internal static class MigrateCommand
{
    public static Command Build()
    {
        var domain = Verb.DomainArgument();
        var target = new Argument<string>("TARGET") { Description = "the receiving host, host:port (its `host up --listen`)" };
        var live = new Option<bool>("--live") { Description = "pre-copy while the guest runs (the default)" };
        var noLive = new Option<bool>("--no-live") { Description = "pause the guest first, then copy it (stop-and-copy only)" };
        var token = new Option<string?>("--token") { Description = "the target's migration token" };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "a file holding the target's migration key" };
        var verify = new Option<bool>("--verify") { Description = "compare a digest of the guest's memory on both hosts before it runs there (adds to the downtime)" };
        var rounds = new Option<int>("--max-rounds") { Description = "pre-copy rounds at most before the stop", DefaultValueFactory = _ => 30 };
        var json = Verb.JsonOption();
        var command = new Command("migrate", "move a guest to another host while it runs (pre-copy, then stop-and-copy)") { domain, target, live, noLive, token, keyFile, verify, rounds, json };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            if (parse.GetValue(live) && parse.GetValue(noLive))
            {
                throw CliException.Usage("--live and --no-live exclude each other");
            }

            byte[] key;
            try
            {
                key = Migration.MigrationKey.From(parse.GetValue(token), parse.GetValue(keyFile)?.FullName, "migrate");
            }
            catch (Host.HostConfigException e)
            {
                throw CliException.Usage(e.Message);
            }

            var request = new MigrateRequest(parse.GetValue(domain)!, parse.GetValue(target)!, !parse.GetValue(noLive), System.Text.Encoding.UTF8.GetString(key), Math.Max(1, parse.GetValue(rounds)), parse.GetValue(verify));
            await using var client = await DaemonClient.ConnectAsync(Verb.State(parse), cancel).ConfigureAwait(false);
            await client.Connection.SendAsync(request with { Id = 1 }, cancel).ConfigureAwait(false);
            var quiet = parse.GetValue(json);
            MigrateReply reply;
            if (!quiet && !Console.IsOutputRedirected)
            {
                reply = await ShowBarAsync(client, cancel).ConfigureAwait(false);
            }
            else
            {
                reply = await FollowAsync(client, p =>
                {
                    if (!quiet)
                    {
                        Console.WriteLine(Line(p));
                    }
                }, cancel).ConfigureAwait(false);
            }

            if (quiet)
            {
                Console.WriteLine(JsonSerializer.Serialize(reply, ToolstackJsonContext.Default.MigrateReply));
                return 0;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"migrated {reply.Domain} to {reply.Target} (domain {reply.TargetDomainId}): {reply.Rounds} rounds, {reply.Pages} pages, {reply.Bytes / 1048576.0:F1} MiB sent, total {reply.TotalUs / 1000.0:F1} ms, downtime {reply.DowntimeUs / 1000.0:F2} ms"));
            return 0;
        });
        return command;
    }

    private static string Line(MigrateProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"{p.Stage} {p.Round}: {p.Pages} pages, {p.Bytes / 1048576.0:F1} MiB sent, {p.DirtyPages} dirty ({p.DirtyPagesPerSecond * 4096 / 1048576.0:F1} MiB/s), {p.ElapsedMs} ms");

    private static async Task<MigrateReply> ShowBarAsync(DaemonClient client, CancellationToken cancel)
    {
        MigrateReply? reply = null;
        await AnsiConsole.Progress().AutoClear(false).StartAsync(async ctx =>
        {
            var task = ctx.AddTask("pre-copy", maxValue: 1);
            reply = await FollowAsync(client, p =>
            {
                task.Description = Markup.Escape(Line(p));
                task.MaxValue = Math.Max(1, p.Pages + p.DirtyPages);
                task.Value = p.Pages;
            }, cancel).ConfigureAwait(false);
            task.Value = task.MaxValue;
        }).ConfigureAwait(false);
        return reply!;
    }

    private static async Task<MigrateReply> FollowAsync(DaemonClient client, Action<MigrateProgress> show, CancellationToken cancel)
    {
        while (true)
        {
            var message = await client.Connection.ReceiveAsync(cancel).ConfigureAwait(false)
                ?? throw new CliException("the host daemon closed the connection during the migration");
            switch (message)
            {
                case MigrateProgress p:
                    show(p);
                    break;
                case MigrateReply r:
                    return r;
                case ErrorReply e:
                    throw new CliException(e.Message);
                default:
                    throw new CliException($"unexpected {message.GetType().Name} from the host daemon");
            }
        }
    }
}
