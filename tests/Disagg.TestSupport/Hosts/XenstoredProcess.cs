using Xunit;

namespace Disagg.TestSupport;

/// <summary>
/// A real out/bin/disagg-xenstored (a <see cref="ServiceProcess"/>) in a temp directory: started, waited for
/// ("ready socket=..."), killed (SIGTERM or SIGKILL) and restarted on the same state directory. Always torn down.
/// </summary>
public sealed class XenstoredProcess : IDisposable
{
    private readonly ServiceProcess _process;

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
        string[] args = ["--socket", SocketPath, "--state-dir", StateDirectory, .. handoff ? ["--ring-handoff", HandoffPath] : Array.Empty<string>(), .. extraArgs];
        _process = new ServiceProcess("disagg-xenstored", args, environment);
        Start();
    }

    public string Directory { get; }

    public string SocketPath => Path.Combine(Directory, "socket");

    public string StateDirectory => Path.Combine(Directory, "state");

    public string HandoffPath => Path.Combine(Directory, "rings");

    public string[] ExtraArgs { get; }

    /// <summary>What it wrote on stderr, every run's.</summary>
    public string StdErr => _process.StdErr;

    public TimeSpan LastStartTime { get; private set; }

    public int Pid => _process.Pid;

    public void Start()
    {
        LastStartTime = _process.Start(TimeSpan.FromSeconds(20));
        Assert.True(_process.ReadyLine == $"ready socket={SocketPath}", $"xenstored did not get ready: '{_process.ReadyLine}'\n{StdErr}");
    }

    /// <summary>SIGKILL, and waits for it to be gone.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM; returns the exit code.</summary>
    public int Terminate()
    {
        var code = _process.Terminate(TimeSpan.FromSeconds(10));
        Assert.True(code is not null, "xenstored ignored SIGTERM");
        return code.Value;
    }

    public void Restart()
    {
        Kill();
        Start();
    }

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        _process.Dispose();
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
