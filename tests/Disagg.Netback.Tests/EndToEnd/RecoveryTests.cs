using Disagg.TestSupport.Netif;
using System.Diagnostics;
using Xunit.Abstractions;

namespace Disagg.Netback.Tests.EndToEnd;

/// <summary>SIGKILL netback during a ping flood, restart it as the supervisor would: traffic resumes on the same rings.</summary>
public sealed class RecoveryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private NetbackRig _host = null!;

    public async Task InitializeAsync() => _host = await NetbackRig.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Killed_netback_resumes_a_ping_flood_within_a_bound_and_reports_the_loss_window()
    {
        var a = await _host.AddStationAsync(10, "00:16:3e:00:00:0a", ip: "10.0.0.10");
        var b = await _host.AddStationAsync(11, "00:16:3e:00:00:0b", ip: "10.0.0.11");
        var clock = Stopwatch.StartNew();
        var lastReply = TimeSpan.Zero;
        var killedAt = TimeSpan.MaxValue;
        var firstAfterKill = TimeSpan.MaxValue;
        ushort sent = 0, answered = 0;
        using var flood = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var receiver = Task.Run(async () =>
        {
            await foreach (var f in a.Received.ReadAllAsync(flood.Token))
            {
                if (Packets.IsEchoReply(f))
                {
                    answered++;
                    lastReply = clock.Elapsed;
                    if (lastReply > killedAt && firstAfterKill == TimeSpan.MaxValue)
                    {
                        firstAfterKill = lastReply;
                        return;
                    }
                }
            }
        });

        var sender = Task.Run(async () =>
        {
            while (!receiver.IsCompleted && !flood.IsCancellationRequested)
            {
                a.Send(Packets.Ping(a.Mac, "10.0.0.10", b.Mac, "10.0.0.11", ++sent));
                await Task.Delay(2);
            }
        });

        while (answered < 50)
        {
            await Task.Delay(20);
        }

        var beforeKill = lastReply;
        killedAt = clock.Elapsed;
        _host.Netback.Kill();
        var restartTime = _host.Netback.Start();
        await receiver.WaitAsync(TimeSpan.FromSeconds(60));
        await sender;

        var recovery = firstAfterKill - killedAt;
        var lossWindow = firstAfterKill - beforeKill;
        output.WriteLine($"netback restart to ready: {restartTime.TotalMilliseconds:F0} ms; SIGKILL to first echo reply: {recovery.TotalMilliseconds:F0} ms; loss window (last reply before to first after): {lossWindow.TotalMilliseconds:F0} ms; {sent} pings sent, {answered} answered");
        Assert.True(recovery < TimeSpan.FromSeconds(30), $"traffic took {recovery} to resume\n{_host.Netback.StdErr}");
        Assert.True(_host.Netback.WaitForStdErr("serving 2 vif device(s)", TimeSpan.FromSeconds(10)), _host.Netback.StdErr);
    }

    [Fact]
    public async Task A_planned_stop_and_a_new_process_resume_the_same_rings()
    {
        // What `disagg service swap netback` does: SIGTERM (exit 0, xenstore left as it is), then a new process.
        var a = await _host.AddStationAsync(10, "00:16:3e:00:00:0a", ip: "10.0.0.10");
        var b = await _host.AddStationAsync(11, "00:16:3e:00:00:0b", ip: "10.0.0.11");
        a.Send(Packets.Ping(a.Mac, "10.0.0.10", b.Mac, "10.0.0.11", 1));
        Assert.NotNull(await a.ReceiveAsync(f => Packets.IsEchoReply(f, 1), TimeSpan.FromSeconds(10)));

        Assert.Equal(0, _host.Netback.Terminate(TimeSpan.FromSeconds(10)));
        _host.Netback.Start();
        for (ushort seq = 2; seq < 6; seq++)
        {
            a.Send(Packets.Ping(a.Mac, "10.0.0.10", b.Mac, "10.0.0.11", seq));
            Assert.True(await a.ReceiveAsync(f => Packets.IsEchoReply(f, seq), TimeSpan.FromSeconds(20)) is not null, _host.Netback.StdErr);
        }

        Assert.Equal(Disagg.Abi.Io.XenbusState.Connected, await a.Frontend.BackendStateAsync());
    }
}
