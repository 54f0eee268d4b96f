using System.Diagnostics;
using Disagg.TestSupport;

namespace Disagg.Xenstored.Tests;

/// <summary>
/// A real out/bin/disagg-xenstored in a temp directory: started, waited for ("ready socket=..."),
/// killed (SIGTERM or SIGKILL) and restarted on the same state directory. Always torn down.
/// </summary>
public sealed class XenstoredProcess : IDisposable
{
    private Process? _process;

    private readonly bool _handoff;
    private readonly IReadOnlyDictionary<string, string> _environment;

    /// <summary>Rings from the tests through the hand-off socket.</summary>
    public XenstoredProcess(params string[] extraArgs)
        : this(new Dictionary<string, string>(), handoff: true, extraArgs)
    {
    }

    /// <summary>With <paramref name="environment"/> added (the host daemon's service variables), and the hand-off socket only if asked.</summary>
    public XenstoredProcess(IReadOnlyDictionary<string, string> environment, bool handoff, params string[] extraArgs)
    {
        Directory = Path.Combine(Path.GetTempPath(), "xs-test-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        ExtraArgs = extraArgs;
        _handoff = handoff;
        _environment = environment;
        Start();
    }

    public string Directory { get; }

    public string SocketPath => Path.Combine(Directory, "socket");

    public string StateDirectory => Path.Combine(Directory, "state");

    public string HandoffPath => Path.Combine(Directory, "rings");

    public string[] ExtraArgs { get; }

    public string StdErr { get; private set; } = "";

    public TimeSpan LastStartTime { get; private set; }

    public int Pid => _process!.Id;

    public void Start()
    {
        var psi = new ProcessStartInfo(RepoPaths.Program("disagg-xenstored"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--socket", SocketPath, "--state-dir", StateDirectory }
            .Concat(_handoff ? ["--ring-handoff", HandoffPath] : [])
            .Concat(ExtraArgs))
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (name, value) in _environment)
        {
            psi.Environment[name] = value;
        }

        var clock = Stopwatch.StartNew();
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (this)
                {
                    StdErr += e.Data + "\n";
                }
            }
        };
        _process.BeginErrorReadLine();
        var line = _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        Assert.True(line == $"ready socket={SocketPath}", $"xenstored did not get ready: '{line}'\n{StdErr}");
        LastStartTime = clock.Elapsed;
    }

    /// <summary>SIGKILL, and waits for it to be gone.</summary>
    public void Kill()
    {
        _process!.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM; returns the exit code.</summary>
    public int Terminate()
    {
        Syscall.Kill(_process!.Id, 15);
        Assert.True(_process.WaitForExit(10_000), "xenstored ignored SIGTERM");
        return _process.ExitCode;
    }

    public void Restart()
    {
        Kill();
        Start();
    }

    public bool HasExited => _process!.HasExited;

    public XsClient Connect() => new(SocketPath);

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
