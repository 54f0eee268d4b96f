using System.Collections.Concurrent;
using Disagg.Toolstack.Supervision;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// The back-off policy against real processes: a healthy service killed from outside comes back at once however
/// often it is killed, while one that dies soon after it serves is still a crash loop that backs off and gives up.
/// </summary>
public sealed class SupervisorBackoffTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("disagg-backoff-").FullName;
    private readonly ConcurrentQueue<RestartRecord> _restarts = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private SupervisedService Start(string script, RestartPolicy policy)
    {
        var s = new SupervisedService(
            new ServiceSpec { Name = "svc", Program = "/bin/sh", Arguments = ["-c", script], DomainId = 3, LogFile = Path.Combine(_dir, "svc.log"), Restart = policy },
            _restarts.Enqueue);
        s.Start();
        return s;
    }

    [Fact]
    public async Task AHealthyServiceKilledOftenIsRestartedAtOnceAndNeverGivenUp()
    {
        // Two restarts would be the limit of a crash loop; six kills of a service that had served are not one.
        var policy = new RestartPolicy(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), MaxRestarts: 2, Window: TimeSpan.FromMinutes(1)) { HealthyAfter = TimeSpan.FromMilliseconds(100) };
        await using var s = Start("exec sleep 1000", policy);
        for (var kill = 1; kill <= 6; kill++)
        {
            await s.Ready.WaitAsync(Bound);
            var pid = s.Status().Pid!.Value;
            await Task.Delay(policy.HealthyAfter * 2);
            Assert.True(s.Kill());
            Assert.True(SpinWait.SpinUntil(() => s.Status() is { State: ServiceState.Running, Pid: { } p } && p != pid, Bound), $"kill {kill}: {s.Status()}");
        }

        Assert.True(SpinWait.SpinUntil(() => _restarts.Count == 6, Bound));
        Assert.All(_restarts, r => Assert.Equal(TimeSpan.Zero, r.Backoff));
        Assert.Equal(6, s.Status().Restarts);
    }

    [Fact]
    public async Task AServiceDyingSoonAfterItServesIsStillACrashLoop()
    {
        var policy = new RestartPolicy(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(80), MaxRestarts: 3, Window: TimeSpan.FromMinutes(1)) { HealthyAfter = TimeSpan.FromSeconds(30) };
        await using var s = Start("sleep 0.05; exit 3", policy);
        Assert.True(SpinWait.SpinUntil(() => s.Status().State == ServiceState.Failed, Bound), s.Status().ToString());
        Assert.Contains("gave up after 3 restarts", s.Status().LastExit, StringComparison.Ordinal);
        Assert.Contains(_restarts, r => r.Backoff > TimeSpan.Zero);
    }

    [Fact]
    public void HealthyMeansServedForAtLeastHealthyAfter()
    {
        var policy = RestartPolicy.Default with { HealthyAfter = TimeSpan.FromSeconds(1) };
        var t = DateTimeOffset.UnixEpoch;
        Assert.False(policy.WasHealthy(null, t));
        Assert.False(policy.WasHealthy(t, t + TimeSpan.FromMilliseconds(999)));
        Assert.True(policy.WasHealthy(t, t + TimeSpan.FromSeconds(1)));
    }
}
