using System.CommandLine;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// `disagg console DOMAIN`: shows the domain's recent console output, then follows it; Ctrl-]
/// detaches (as xl console). Keystrokes are sent to the daemon; they reach the guest once the PV
/// console ring backend exists. With stdin not a terminal, end of input does not detach: the
/// console runs until the domain goes or the client is stopped.
/// </summary>
internal static class ConsoleCommand
{
    private const byte CtrlRightBracket = 0x1D;

    public static Command Build()
    {
        var domain = Verb.DomainArgument();
        var command = new Command("console", "attach to a domain's console (Ctrl-] detaches)") { domain };
        Verb.SetAction(command, (parse, cancel) => AttachAsync(Verb.State(parse), parse.GetValue(domain)!, cancel));
        return command;
    }

    public static async Task<int> AttachAsync(StateDir state, string domain, CancellationToken cancel)
    {
        await using var client = await DaemonClient.ConnectAsync(state, cancel).ConfigureAwait(false);
        await client.CallAsync<OkReply>(new ConsoleAttachRequest(domain, 16 * 1024), cancel).ConfigureAwait(false);
        if (!Console.IsInputRedirected)
        {
            await Console.Error.WriteLineAsync($"Connected to the console of {domain} (Ctrl-] to detach)").ConfigureAwait(false);
        }

        using var detach = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var keys = Console.IsInputRedirected ? Task.CompletedTask : Task.Run(() => ForwardKeysAsync(client.Connection, detach), CancellationToken.None);
        using var stdout = Console.OpenStandardOutput();
        try
        {
            while (await client.Connection.ReceiveAsync(detach.Token).ConfigureAwait(false) is { } message)
            {
                switch (message)
                {
                    case ConsoleOutput output:
                        if (output.Dropped > 0)
                        {
                            await Console.Error.WriteLineAsync($"[console: {output.Dropped} bytes dropped, this client read too slowly]").ConfigureAwait(false);
                        }

                        await stdout.WriteAsync(output.Data, detach.Token).ConfigureAwait(false);
                        await stdout.FlushAsync(detach.Token).ConfigureAwait(false);
                        break;
                    case ConsoleClosed closed:
                        await Console.Error.WriteLineAsync($"[console closed: {closed.Reason}]").ConfigureAwait(false);
                        return 0;
                }
            }
        }
        catch (OperationCanceledException) when (detach.IsCancellationRequested)
        {
            // Ctrl-] or Ctrl-C
        }

        await detach.CancelAsync().ConfigureAwait(false);
        await keys.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return 0;
    }

    private static async Task ForwardKeysAsync(DaemonConnection connection, CancellationTokenSource detach)
    {
        while (!detach.IsCancellationRequested)
        {
            if (!Console.KeyAvailable)
            {
                await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            var key = Console.ReadKey(intercept: true);
            if (key.KeyChar == (char)CtrlRightBracket)
            {
                await detach.CancelAsync().ConfigureAwait(false);
                return;
            }

            var bytes = System.Text.Encoding.UTF8.GetBytes([key.KeyChar == '\r' ? '\n' : key.KeyChar]);
            await connection.SendAsync(new ConsoleInput(bytes), CancellationToken.None).ConfigureAwait(false);
        }
    }
}
