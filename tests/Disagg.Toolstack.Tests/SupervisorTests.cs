using System.Collections.Concurrent;
using Disagg.Toolstack.Supervision;

namespace Disagg.Toolstack.Tests;

/// <summary>The supervisor against real processes (sh, sleep, false).</summary>
public sealed class SupervisorTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly string _dir = Directory.CreateTempSubdirectory("disagg-sup-").FullName;
    private readonly ConcurrentQueue<RestartRecord> _restarts = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private SupervisedService Start(string script, RestartPolicy? policy = null, Func<CancellationToken, Task<bool>>? probe = null)
    {
        var s = new SupervisedService(
            new ServiceSpec
            {
                Name = "svc",
                Program = "/bin/sh",
                Arguments = ["-c", script],
                DomainId = 3,
                LogFile = Path.Combine(_dir, "svc.log"),
                ReadinessProbe = probe,
                Restart = policy ?? RestartPolicy.Default,
            },
            _restarts.Enqueue);
        s.Start();
        return s;
    }

    private static bool Alive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2].StartsWith('Z');

    [Fact]
    public async Task RunningServiceReportsPidRssAndLogsItsOutput()
    {
        await using var s = Start("echo started $$; exec sleep 1000");
        await s.Ready.WaitAsync(Bound);
        var st = s.Status();
        Assert.Equal(ServiceState.Running, st.State);
        Assert.NotNull(st.Pid);
        Assert.Equal(3, st.DomainId);
        Assert.True(st.RssBytes > 0);
        Assert.True(SpinWait.SpinUntil(() => File.Exists(Path.Combine(_dir, "svc.log")) && File.ReadAllText(Path.Combine(_dir, "svc.log")).Contains("started", StringComparison.Ordinal), Bound));
    }

    [Fact]
    public async Task KilledServiceIsRestartedAtOnceAndTheRestartIsRecorded()
    {
        await using var s = Start("exec sleep 1000");
        await s.Ready.WaitAsync(Bound);
        var pid = s.Status().Pid!.Value;
        Assert.True(s.Kill());
        Assert.True(SpinWait.SpinUntil(() => s.Status() is { State: ServiceState.Running, Pid: { } p } && p != pid, Bound));
        Assert.False(Alive(pid));
        var r = Assert.Single(_restarts);
        Assert.Equal("killed by signal 9 (SIGKILL)", r.Cause);
        Assert.True(r.Downtime < TimeSpan.FromSeconds(2), $"down for {r.Downtime}");
        Assert.Equal(1, s.Status().Restarts);
    }

    [Fact]
    public async Task ACrashLoopEndsInFailedWithTheReason()
    {
        var policy = new RestartPolicy(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(10), MaxRestarts: 3, Window: TimeSpan.FromMinutes(1));
        await using var s = Start("exit 7", policy);
        Assert.True(SpinWait.SpinUntil(() => s.Status().State == ServiceState.Failed, Bound));
        var st = s.Status();
        Assert.Equal(3, st.Restarts);
        Assert.Contains("exited with code 7", st.LastExit, StringComparison.Ordinal);
        Assert.Contains("gave up after 3 restarts", st.LastExit, StringComparison.Ordinal);
        Assert.Null(st.Pid);
    }

    [Fact]
    public async Task PlannedRestartsDoNotCountAgainstThePolicy()
    {
        var policy = new RestartPolicy(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(10), MaxRestarts: 1, Window: TimeSpan.FromMinutes(1));
        await using var s = Start("exec sleep 1000", policy);
        for (var i = 0; i < 3; i++)
        {
            await s.Ready.WaitAsync(Bound);
            var pid = s.Status().Pid;
            Assert.True(s.Restart());
            Assert.True(SpinWait.SpinUntil(() => s.Status() is { State: ServiceState.Running, Pid: { } p } && p != pid, Bound));
        }

        Assert.Equal(ServiceState.Running, s.Status().State);
        Assert.All(_restarts, r => Assert.Equal("planned restart", r.Cause));
    }

    [Fact]
    public async Task ReadyWaitsForTheProbe()
    {
        var marker = Path.Combine(_dir, "serving");
        await using var s = Start($"sleep 0.3; touch {marker}; exec sleep 1000", probe: _ => Task.FromResult(File.Exists(marker)));
        await s.Ready.WaitAsync(Bound);
        Assert.True(File.Exists(marker));
        Assert.Equal(ServiceState.Running, s.Status().State);
    }

    [Fact]
    public async Task DisposingStopsTheProcessForGood()
    {
        var s = Start("exec sleep 1000");
        await s.Ready.WaitAsync(Bound);
        var pid = s.Status().Pid!.Value;
        await s.DisposeAsync();
        Assert.True(SpinWait.SpinUntil(() => !Alive(pid), Bound));
        Assert.Equal(ServiceState.Stopped, s.Status().State);
        Assert.Empty(_restarts);
    }

    [Fact]
    public async Task AMissingProgramFailsWithAReason()
    {
        var s = new SupervisedService(new ServiceSpec { Name = "ghost", Program = Path.Combine(_dir, "no-such-binary") });
        s.Start();
        Assert.True(SpinWait.SpinUntil(() => s.Status().State == ServiceState.Failed, Bound));
        Assert.Contains("could not start", s.Status().LastExit, StringComparison.Ordinal);
        await s.DisposeAsync();
    }

    [Fact]
    public void BackoffStartsAtZeroAndDoublesToItsCeiling()
    {
        var p = new RestartPolicy(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), 10, TimeSpan.FromMinutes(1));
        Assert.Equal([0, 100, 200, 400, 800, 1000, 1000], Enumerable.Range(0, 7).Select(i => (int)p.DelayFor(i).TotalMilliseconds));
    }
}
