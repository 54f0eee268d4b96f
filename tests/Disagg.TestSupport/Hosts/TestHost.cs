using System.Globalization;
using System.Text.Json;
using Xunit;

namespace Disagg.TestSupport;

/// <summary>
/// A real host (`disagg host up`, daemonized) in a temp state dir, driven through the real
/// out/bin/disagg binary. Its services are fixed by its host.conf (no built-in ones, one probe
/// service that is a shell script), so tests do not depend on which service programs exist.
/// Always brought down (and the dir removed) on dispose.
/// </summary>
public sealed class TestHost : IDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public TestHost()
        : this("none")
    {
    }

    /// <summary>As below, with extraConfig's "{dir}" replaced by the state dir.</summary>
    internal TestHost(string services, string extraConfig)
        : this(services, dir => extraConfig.Replace("{dir}", dir, StringComparison.Ordinal) + "\n")
    {
    }

    /// <summary>A host with these built-in services (host.conf `services =`), besides the probe; extraConfig
    /// (given the state dir) adds host.conf lines, e.g. `service.NAME = ...`.</summary>
    internal TestHost(string services, Func<string, string>? extraConfig = null)
    {
        // Short paths: a Unix socket path has at most 107 bytes.
        Dir = Directory.CreateTempSubdirectory("dts-").FullName;
        GuestDir = Directory.CreateDirectory(Path.Combine(Dir, "guests")).FullName;
        var probe = Path.Combine(Dir, "probe.sh");
        // The probe ends with the daemon that started it: a test that kills the daemon must not leave it behind.
        File.WriteAllText(probe, "#!/bin/sh\necho ready\nwhile kill -0 $PPID 2>/dev/null; do sleep 1; done\n");
        File.SetUnixFileMode(probe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(Dir, "host.conf"), $"# test host\nmemory = 128M\npcpus = 1\nshutdown_timeout = 5\nservices = {services}\nservice.probe = {probe}\n{extraConfig?.Invoke(Dir)}");
        // host up waits for each service's ready line (15 s each at most): on a loaded machine three
        // services take longer than Bound, and a CLI killed then would leave the host running.
        // A host started for tests: its services get the test-only sandbox probe (DISAGG_TEST_HOOKS, ServiceDomains).
        var up = HostProcess.Run(RepoPaths.Program("disagg"), ["host", "up", "--state-dir", Dir], TimeSpan.FromSeconds(120), environment: TestHooks);
        if (up.ExitCode != 0)
        {
            Dispose(); // a daemon that came up too slowly must not outlive the failed fixture
            Assert.Fail(up.ToString());
        }
    }

    /// <summary>The environment `host up` runs with: DISAGG_TEST_HOOKS=1.</summary>
    public static IReadOnlyDictionary<string, string> TestHooks { get; } = new Dictionary<string, string> { ["DISAGG_TEST_HOOKS"] = "1" };

    public string Dir { get; }

    public string GuestDir { get; }

    public ProcessResult Run(params string[] args) =>
        HostProcess.Run(RepoPaths.Program("disagg"), [.. args, "--state-dir", Dir], Bound);

    public ProcessResult MustRun(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == 0, $"disagg {string.Join(' ', args)}: {r}");
        return r;
    }

    public JsonElement Json(params string[] args) => JsonDocument.Parse(MustRun([.. args, "--json"]).StdOut).RootElement.Clone();

    /// <summary>The domain row of `list --json` with this name, or null.</summary>
    public JsonElement? Domain(string name)
    {
        foreach (var d in Json("list").EnumerateArray())
        {
            if (d.GetProperty("name").GetString() == name)
            {
                return d;
            }
        }

        return null;
    }

    public string ConsoleLog(string name)
    {
        var path = Path.Combine(Dir, "console", $"guest-{name}.log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    public static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The row of `service list --json` for one service.</summary>
    public JsonElement Service(string name) => Json("service", "list").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name);

    /// <summary>xenstore-read through Debian's tools against this host's xenstored; null when the node does not exist.</summary>
    public string? XsRead(string path)
    {
        var r = HostProcess.Run("env", [$"XENSTORED_PATH={Path.Combine(Dir, "xenstored.sock")}", "xenstore-read", path], Bound);
        return r.ExitCode == 0 ? r.StdOut.Trim() : null;
    }

    /// <summary>A child node's permissions as xenstore-ls -p shows them under its parent (`51712 = "" . . . (n3,r5)`): "n3,r5"; null if absent.</summary>
    public string? XsPerms(string parent, string child)
    {
        var ls = HostProcess.Run("env", [$"XENSTORED_PATH={Path.Combine(Dir, "xenstored.sock")}", "xenstore-ls", "-p", parent], Bound).StdOut;
        foreach (var line in ls.Split('\n'))
        {
            if (line.StartsWith(child + " = ", StringComparison.Ordinal) && line.TrimEnd().EndsWith(')'))
            {
                var t = line.TrimEnd();
                return t[(t.LastIndexOf('(') + 1)..^1];
            }
        }

        return null;
    }

    public static int Int(JsonElement e, string property) => e.GetProperty(property).GetInt32();

    public static string Id(JsonElement e) => Int(e, "id").ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (File.Exists(Path.Combine(Dir, "disagg.sock")))
        {
            // Generous: on a loaded machine `host down` (guests, then each service, then the kernel) takes a while.
            var down = HostProcess.Run(RepoPaths.Program("disagg"), ["host", "down", "--timeout", "2", "--state-dir", Dir], TimeSpan.FromSeconds(120));
            if (down.ExitCode != 0 && File.Exists(Path.Combine(Dir, "disagg.pid"))
                && int.TryParse(File.ReadAllText(Path.Combine(Dir, "disagg.pid")).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var daemon))
            {
                // It did not come down in time: SIGTERM takes the daemon down the same way, and it must not outlive its dir.
                Disagg.Interop.ProcessSignals.Send(daemon, Disagg.Interop.ProcessSignals.Sigterm);
                Eventually.Holds(() => !Alive(daemon), 60);
            }
        }

        // Still there (host down failed, or the daemon never got as far as its socket): SIGKILL it; its
        // kernel and services die with it (PDEATHSIG).
        var pidFile = Path.Combine(Dir, "disagg.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
        {
            try
            {
                using var leftover = System.Diagnostics.Process.GetProcessById(pid);
                leftover.Kill();
                leftover.WaitForExit(5000);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // already gone
            }
        }

        Directory.Delete(Dir, recursive: true);
    }
}
