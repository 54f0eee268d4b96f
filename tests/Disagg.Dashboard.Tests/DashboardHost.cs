using Disagg.TestSupport;

namespace Disagg.Dashboard.Tests;

/// <summary>
/// A real host (`disagg host up --http 127.0.0.1:0`) in a temp state dir with one supervised probe service
/// (a shell script: the restart tests kill it), its dashboard's URL read from STATE_DIR/http.addr. Down and
/// removed on dispose.
/// </summary>
public sealed class DashboardHost : IDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public DashboardHost()
    {
        Dir = Directory.CreateTempSubdirectory("ddash-").FullName;
        var probe = Path.Combine(Dir, "probe.sh");
        // The probe ends with the daemon that started it: a test that kills the daemon must not leave it behind.
        File.WriteAllText(probe, "#!/bin/sh\necho ready\nwhile kill -0 $PPID 2>/dev/null; do sleep 1; done\n");
        File.SetUnixFileMode(probe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(Dir, "host.conf"), $"memory = 128M\npcpus = 1\nshutdown_timeout = 5\nservices = none\nservice.probe = {probe}\n");
        var up = HostProcess.Run(RepoPaths.Program("disagg"), ["host", "up", "--state-dir", Dir, "--http", "127.0.0.1:0"], TimeSpan.FromSeconds(120));
        if (up.ExitCode != 0)
        {
            Dispose();
            Assert.Fail(up.ToString());
        }

        var addr = File.ReadAllText(Path.Combine(Dir, "http.addr")).Trim();
        Url = "http://" + addr + "/";
    }

    public string Dir { get; }

    public string Url { get; }

    public ProcessResult MustRun(params string[] args)
    {
        var r = HostProcess.Run(RepoPaths.Program("disagg"), [.. args, "--state-dir", Dir], Bound);
        Assert.True(r.ExitCode == 0, $"disagg {string.Join(' ', args)}: {r}");
        return r;
    }

    /// <summary>Creates an rv64 pvos guest running echo (it prints its banner, then waits for input).</summary>
    public void CreateEchoGuest(string name)
    {
        var cfg = Path.Combine(Dir, name + ".cfg");
        File.WriteAllText(cfg, $"name = \"{name}\"\nkernel = \"{Path.Combine(RepoPaths.Guests, "rv64", "pvos.elf")}\"\nmemory = 8\ncmdline = \"app=echo\"\n");
        MustRun("create", cfg);
    }

    /// <summary>The probe service's pid now (from `service list --json`).</summary>
    public int ProbePid()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(MustRun("service", "list", "--json").StdOut);
        foreach (var s in doc.RootElement.EnumerateArray())
        {
            if (s.GetProperty("name").GetString() == "probe" && s.TryGetProperty("pid", out var pid) && pid.ValueKind == System.Text.Json.JsonValueKind.Number)
            {
                return pid.GetInt32();
            }
        }

        throw new InvalidOperationException("no running probe service");
    }

    public void Dispose()
    {
        HostProcess.Run(RepoPaths.Program("disagg"), ["host", "down", "--state-dir", Dir], Bound);
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // a straggler still writing its log; the temp dir is cleaned up by the OS eventually
        }

    }
}
