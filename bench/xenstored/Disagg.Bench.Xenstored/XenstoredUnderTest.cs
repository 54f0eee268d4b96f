using System.Diagnostics;

namespace Disagg.Bench.Xenstored;

/// <summary>out/bin/disagg-xenstored on a temp state directory; started, SIGKILLed, restarted.</summary>
internal sealed class XenstoredUnderTest : IDisposable
{
    private readonly string _binary;
    private Process? _process;

    public XenstoredUnderTest(string directory)
    {
        Directory = directory;
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Disagg.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd('/')) ?? throw new DirectoryNotFoundException("Disagg.sln not found");
        }

        _binary = Path.Combine(root, "out", "bin", "disagg-xenstored");
    }

    public string Directory { get; }

    public string Socket => Path.Combine(Directory, "socket");

    /// <summary>Starts and waits for "ready"; returns how long that took.</summary>
    public TimeSpan Start()
    {
        var psi = new ProcessStartInfo(_binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--socket", Socket, "--state-dir", Path.Combine(Directory, "state") })
        {
            psi.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        var line = _process.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("ready ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("xenstored did not start: " + line);
        }

        return clock.Elapsed;
    }

    public void Kill()
    {
        _process!.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            Kill();
        }
    }
}
