using System.Diagnostics;
using System.Globalization;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// `disagg host up` without --foreground: runs `disagg host up --foreground` in a new session
/// (setsid, so the terminal's Ctrl-C and hangup do not reach it), with stdin from /dev/null and
/// stdout/stderr appended to the state dir's log, then waits until its socket answers.
/// </summary>
internal static class Daemonizer
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> StartAsync(StateDir state, IReadOnlyList<string> args, CancellationToken cancel)
    {
        if (PidFile.ReadLive(state.PidFile) is { } running)
        {
            throw new CliException($"a host is already up in {state.Path} (daemon pid {running})");
        }

        Directory.CreateDirectory(state.Path);
        var logStart = File.Exists(state.DaemonLog) ? new FileInfo(state.DaemonLog).Length : 0;
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true };
        // The shell starts the daemon in the background and prints its pid ($!): no job control,
        // so setsid is not a group leader and execs in place, and $! is the daemon itself.
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("log=$1; shift; setsid \"$@\" </dev/null >>\"$log\" 2>&1 & echo $!");
        psi.ArgumentList.Add("disagg-daemonize");
        psi.ArgumentList.Add(state.DaemonLog);
        psi.ArgumentList.Add(ProgramChoice.Daemon(out var stale));
        if (stale is not null)
        {
            Console.Error.WriteLine(stale);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var sh = Process.Start(psi) ?? throw new CliException("could not start /bin/sh to daemonize");
        var pidText = await sh.StandardOutput.ReadToEndAsync(cancel).ConfigureAwait(false);
        await sh.WaitForExitAsync(cancel).ConfigureAwait(false);
        if (!int.TryParse(pidText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            throw new CliException($"could not start the daemon: {pidText.Trim()}");
        }

        if (!Waiting.Interactive)
        {
            return await WaitReadyAsync(state, pid, logStart, _ => { }, cancel).ConfigureAwait(false);
        }

        // On a terminal: what the daemon is doing (its log's latest line: the kernel, each service as it comes up).
        return await Spectre.Console.AnsiConsole.Status().StartAsync("starting the host...", ctx =>
            WaitReadyAsync(state, pid, logStart, line => ctx.Status = Spectre.Console.Markup.Escape(line), cancel)).ConfigureAwait(false);
    }

    private static async Task<int> WaitReadyAsync(StateDir state, int pid, long logStart, Action<string> progress, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var shown = TimeSpan.Zero;
        while (clock.Elapsed < ReadyTimeout)
        {
            if (clock.Elapsed - shown > TimeSpan.FromMilliseconds(100) && LatestMessage(state.DaemonLog, logStart) is { } latest)
            {
                shown = clock.Elapsed;
                progress(latest);
            }

            if (File.Exists(state.DaemonSocket) && PidFile.ReadLive(state.PidFile) == pid)
            {
                try
                {
                    await using var client = await DaemonClient.ConnectAsync(state, cancel).ConfigureAwait(false);
                    await client.CallAsync<HostStatusReply>(new HostStatusRequest(), cancel).ConfigureAwait(false);
                    return pid;
                }
                catch (CliException)
                {
                    // bound but not accepting yet
                }
            }

            if (!Signals.IsAlive(pid))
            {
                throw new CliException($"the daemon exited before it was ready:\n{LogSince(state.DaemonLog, logStart)}");
            }

            await Task.Delay(10, cancel).ConfigureAwait(false);
        }

        throw new CliException($"the daemon (pid {pid}) was not ready after {ReadyTimeout.TotalSeconds:0} s; see {state.DaemonLog}");
    }

    /// <summary>The newest log line's message (after "time level: "), or null.</summary>
    private static string? LatestMessage(string path, long offset)
    {
        var last = LogSince(path, offset).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (last is null)
        {
            return null;
        }

        var colon = last.IndexOf(": ", StringComparison.Ordinal);
        return colon >= 0 ? last[(colon + 2)..] : last;
    }

    private static string LogSince(string path, long offset)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            f.Position = Math.Min(offset, f.Length);
            using var r = new StreamReader(f);
            return r.ReadToEnd().TrimEnd();
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }
}
