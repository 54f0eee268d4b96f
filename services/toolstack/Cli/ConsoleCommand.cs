using System.CommandLine;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// `disagg console DOMAIN`: shows the domain's recent console output, then follows it; Ctrl-]
/// detaches (as xl console). Keystrokes go to the guest's PV console ring. With stdin not a
/// terminal its bytes are sent as they are, and end of input detaches (as xenconsole does), so
/// `printf 'cmd\n' | disagg console web` and scripts end. `--batch` prints the log's tail and exits.
/// </summary>
internal static class ConsoleCommand
{
    private const byte CtrlRightBracket = 0x1D;

    public static Command Build()
    {
        var domain = Verb.DomainArgument();
        var batch = new Option<bool>("--batch", "-b") { Description = "print the console's output so far (up to 1 MiB) and exit" };
        var command = new Command("console", "attach to a domain's console (Ctrl-] detaches)") { domain, batch };
        Verb.SetAction(command, (parse, cancel) => AttachAsync(Verb.State(parse), parse.GetValue(domain)!, cancel, parse.GetValue(batch)));
        return command;
    }

    public static async Task<int> AttachAsync(StateDir state, string domain, CancellationToken cancel, bool batch = false)
    {
        await using var client = await DaemonClient.ConnectAsync(state, cancel).ConfigureAwait(false);
        await client.CallAsync<OkReply>(new ConsoleAttachRequest(domain, batch ? 1 << 20 : 16 * 1024, Follow: !batch), cancel).ConfigureAwait(false);
        if (!Console.IsInputRedirected && !batch)
        {
            await Console.Error.WriteLineAsync($"Connected to the console of {domain} (Ctrl-] to detach)").ConfigureAwait(false);
        }

        using var detach = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var keys = batch ? Task.CompletedTask
            : Console.IsInputRedirected ? Task.Run(() => ForwardInputAsync(client.Connection, detach), CancellationToken.None)
            : Task.Run(() => ForwardKeysAsync(client.Connection, detach), CancellationToken.None);
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
                        if (!batch)
                        {
                            await Console.Error.WriteLineAsync($"[console closed: {closed.Reason}]").ConfigureAwait(false);
                        }

                        await detach.CancelAsync().ConfigureAwait(false);
                        await keys.WaitAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // a read of redirected stdin does not cancel
                        return 0;
                }
            }
        }
        catch (OperationCanceledException) when (detach.IsCancellationRequested)
        {
            // Ctrl-] or Ctrl-C
        }

        await detach.CancelAsync().ConfigureAwait(false);
        await keys.WaitAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // a read of redirected stdin does not cancel
        return 0;
    }

    /// <summary>Redirected stdin: its bytes as they come; its end detaches.</summary>
    private static async Task ForwardInputAsync(DaemonConnection connection, CancellationTokenSource detach)
    {
        using var stdin = Console.OpenStandardInput();
        var buffer = new byte[1024];
        int n;
        while ((n = await stdin.ReadAsync(buffer, detach.Token).ConfigureAwait(false)) > 0)
        {
            await connection.SendAsync(new ConsoleInput(buffer[..n]), detach.Token).ConfigureAwait(false);
        }

        await detach.CancelAsync().ConfigureAwait(false);
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
