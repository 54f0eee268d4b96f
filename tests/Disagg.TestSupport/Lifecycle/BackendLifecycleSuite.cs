using System.Net.Sockets;
using Disagg.Abi.Io;
using Xunit;
using Disagg.Xenbus;

namespace Disagg.TestSupport.Lifecycle;

/// <summary>
/// The life cycle every xenbus backend goes through (crosvm's one suite for every device): connect, SIGKILL and
/// restart, xenstored restart, teardown on the frontend's close, and an error node for bad frontend keys. Each
/// backend's test project derives one class supplying its <see cref="ILifecycleRig"/>, with the real processes.
/// </summary>
public abstract class BackendLifecycleSuite : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private XenstoreClient? _xs;

    protected ILifecycleRig Rig { get; private set; } = null!;

    /// <summary>The backend's host: kernel, xenstored and the backend started, nothing attached.</summary>
    protected abstract Task<ILifecycleRig> StartRigAsync();

    public async Task InitializeAsync()
    {
        Rig = await StartRigAsync();
        _xs = await XenstoreClient.ConnectAsync(Rig.XenstoreSocket, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_xs is not null)
        {
            await _xs.DisposeAsync();
        }

        await Rig.DisposeAsync();
    }

    [Fact]
    public async Task A_frontend_connects_and_data_flows()
    {
        var device = await Rig.AttachAsync(0);
        Assert.Equal(XenbusState.Connected, await BackendStateAsync(device.BackendPath));
        await device.AssertDataFlowsAsync();
        Assert.True(await device.StatusSaysConnectedAsync(true));
        Assert.Null(await ReadAsync(device.BackendPath + "/error"));
    }

    [Fact]
    public async Task A_SIGKILLed_backend_is_restarted_and_the_same_frontend_moves_data_again()
    {
        var device = await Rig.AttachAsync(0);
        await device.AssertDataFlowsAsync();
        var pid = Rig.Backend.Pid;

        Rig.Backend.Kill();
        await Rig.Backend.StartAsync();
        Assert.NotEqual(pid, Rig.Backend.Pid);
        await device.FollowBackendRestartAsync();

        await WaitForBackendAsync(device.BackendPath, XenbusState.Connected);
        await device.AssertDataFlowsAsync();
        Assert.True(await device.StatusSaysConnectedAsync(true));
    }

    [Fact]
    public async Task A_restarted_xenstored_is_reconnected_to_while_data_keeps_flowing_in_the_same_backend_process()
    {
        var device = await Rig.AttachAsync(0);
        await device.AssertDataFlowsAsync();
        var pid = Rig.Backend.Pid;

        Rig.Xenstored.Kill();
        await device.AssertDataFlowsAsync(); // no xenstored at all: rings need none
        await Rig.Xenstored.StartAsync();
        await ReconnectXenstoreAsync();
        await device.AssertDataFlowsAsync();

        // The backend watches again: a new device is taken up, and the old one is still Connected.
        var second = await Rig.AttachAsync(1);
        await second.AssertDataFlowsAsync();
        await device.AssertDataFlowsAsync();
        Assert.Equal(XenbusState.Connected, await BackendStateAsync(device.BackendPath));
        Assert.Equal(pid, Rig.Backend.Pid);
        Assert.False(Rig.Backend.HasExited, Rig.Backend.StdErr);
    }

    [Fact]
    public async Task A_backend_started_while_xenstored_restarts_connects_again_and_serves_instead_of_exiting()
    {
        var device = await Rig.AttachAsync(0);
        await device.AssertDataFlowsAsync();
        Rig.Backend.Kill();
        Rig.Xenstored.Kill();

        // What a starting backend meets in a chaos run: a xenstored that accepts its connection and dies at once.
        var turnedAway = 0;
        using (var dying = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            File.Delete(Rig.XenstoreSocket);
            dying.Bind(new UnixDomainSocketEndPoint(Rig.XenstoreSocket));
            dying.Listen();
            var accepting = Task.Run(() =>
            {
                try
                {
                    while (true)
                    {
                        dying.Accept().Dispose();
                        Interlocked.Increment(ref turnedAway);
                    }
                }
                catch (SocketException)
                {
                    // the listener was closed: the real xenstored takes over
                }
                catch (ObjectDisposedException)
                {
                }
            });
            var starting = Rig.Backend.StartAsync();
            Assert.True(await Eventually.HoldsAsync(() => Task.FromResult(Volatile.Read(ref turnedAway) >= 2 || starting.IsCompleted), Patience.TotalSeconds), Rig.Backend.StdErr);
            Assert.False(starting.IsCompleted, $"the backend did not wait for xenstored: {Rig.Backend.StdErr}"); // before: exit 69
            dying.Close();
            await accepting;
            File.Delete(Rig.XenstoreSocket);
            await Rig.Xenstored.StartAsync();
            await starting;
        }

        // The backend serves (it printed ready) and stays up. Its frontend is not followed further: the native blkfront's
        // own xenstore connection died with xenstored, and what frontends do after a backend restart is the test above.
        Assert.False(Rig.Backend.HasExited, Rig.Backend.StdErr);
        Assert.Contains("xenstored went again", Rig.Backend.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_closing_frontend_has_its_device_torn_down_Closing_then_Closed()
    {
        var device = await Rig.AttachAsync(0);
        await device.AssertDataFlowsAsync();

        await _xs!.WriteAsync(XenstoreClient.NoTransaction, device.FrontendPath + "/state", XenbusStates.Format(XenbusState.Closing), CancellationToken.None);
        await WaitForBackendAsync(device.BackendPath, XenbusState.Closing);
        await _xs.WriteAsync(XenstoreClient.NoTransaction, device.FrontendPath + "/state", XenbusStates.Format(XenbusState.Closed), CancellationToken.None);
        await WaitForBackendAsync(device.BackendPath, XenbusState.Closed);
        Assert.True(await device.StatusSaysConnectedAsync(false));
        Assert.False(Rig.Backend.HasExited, Rig.Backend.StdErr);
    }

    [Fact]
    public async Task A_broken_ring_gets_its_error_node_and_Closing_and_stays_disconnected_while_other_devices_work()
    {
        var good = await Rig.AttachAsync(0);
        var liar = await Rig.AttachAsync(1);
        await liar.AssertDataFlowsAsync();

        liar.BreakRing();
        await WaitForBackendAsync(liar.BackendPath, XenbusState.Closing);
        Assert.StartsWith("ring fault: ", await ReadAsync(liar.BackendPath + "/error"), StringComparison.Ordinal);
        Assert.True(await liar.StatusSaysConnectedAsync(false));
        await good.AssertDataFlowsAsync();

        // Not connected again on the same (broken) ring: the status file has been rewritten since, and still the error stands.
        Assert.StartsWith("ring fault: ", await ReadAsync(liar.BackendPath + "/error"), StringComparison.Ordinal);
        Assert.Equal(XenbusState.Closing, await BackendStateAsync(liar.BackendPath));
        Assert.False(Rig.Backend.HasExited, Rig.Backend.StdErr);
    }

    [Fact]
    public async Task Bad_frontend_keys_get_an_error_node_and_no_connection_while_other_devices_work()
    {
        var good = await Rig.AttachAsync(0);
        var bad = await Rig.WriteDeviceWithBadRingReferenceAsync(_xs!, 40);

        Assert.True(await Eventually.HoldsAsync(async () => await ReadAsync(bad + "/error") is not null, Patience.TotalSeconds), Rig.Backend.StdErr);
        Assert.Contains("ring-ref", await ReadAsync(bad + "/error"), StringComparison.Ordinal);
        Assert.Equal(XenbusState.InitWait, await BackendStateAsync(bad));
        await good.AssertDataFlowsAsync();
        Assert.False(Rig.Backend.HasExited, Rig.Backend.StdErr);
    }

    private async Task ReconnectXenstoreAsync()
    {
        await _xs!.DisposeAsync();
        _xs = await XenstoreClient.ConnectWithRetryAsync(Rig.XenstoreSocket, Patience, CancellationToken.None);
    }

    private Task<string?> ReadAsync(string path) => _xs!.ReadAsync(XenstoreClient.NoTransaction, path, CancellationToken.None);

    private async Task<XenbusState> BackendStateAsync(string backendPath) => XenbusStates.Parse(await ReadAsync(backendPath + "/state"));

    private async Task WaitForBackendAsync(string backendPath, XenbusState state)
    {
        var held = await Eventually.HoldsAsync(async () => await BackendStateAsync(backendPath) == state, Patience.TotalSeconds);
        Assert.True(held, $"{backendPath}: state {await BackendStateAsync(backendPath)}, not {state}\n{Rig.Backend.StdErr}");
    }
}
