using System.Diagnostics;
using System.Text;

namespace Disagg.TestSupport;

/// <summary>Runs a real program to completion with a hard time bound, so a hang fails the test instead of stalling it.</summary>
public static class HostProcess
{
    public static ProcessResult Run(string file, IEnumerable<string> args, TimeSpan timeout, string? stdin = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var stopwatch = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }

        var timedOut = !p.WaitForExit(timeout);
        if (timedOut)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        else
        {
            p.WaitForExit(); // drains the async readers
        }

        lock (stdout)
        {
            lock (stderr)
            {
                return new ProcessResult(timedOut ? -1 : p.ExitCode, stdout.ToString(), stderr.ToString(), timedOut, stopwatch.Elapsed);
            }
        }
    }
}
