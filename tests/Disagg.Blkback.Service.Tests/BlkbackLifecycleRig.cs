using System.Globalization;
using Disagg.Abi.Io;
using Disagg.DiskImage;
using Disagg.Blkfront.Native;
using Disagg.TestSupport;
using Disagg.TestSupport.Lifecycle;
using Disagg.Xenbus;

namespace Disagg.Blkback.Service.Tests;

/// <summary>
/// blkback for the life-cycle suite: a <see cref="BlkbackRig"/> whose frontends each get a raw image of their own
/// and a xenstore connection of their own (so a frontend attached after a xenstored restart has a live one);
/// data flows when a block written reads back the same.
/// </summary>
internal sealed class BlkbackLifecycleRig(BlkbackRig rig) : ILifecycleRig
{
    private readonly List<(NativeBlkfront Front, XenstoreClient Xs)> _frontends = [];

    public ServiceProcess Backend => rig.Blkback;

    public ServiceProcess Xenstored => rig.Xenstored;

    public string XenstoreSocket => Path.Combine(rig.Directory, "xenstored.sock");

    public static async Task<BlkbackLifecycleRig> StartAsync() => new(await BlkbackRig.StartAsync());

    public async Task<ILifecycleDevice> AttachAsync(int index)
    {
        var image = rig.File($"lifecycle{index}.raw");
        DiskImages.CreateRaw(image, 4 << 20);
        var xs = await XenstoreClient.ConnectWithRetryAsync(XenstoreSocket, TimeSpan.FromSeconds(30), CancellationToken.None);
        var front = await NativeBlkfront.AttachAsync(rig.Control, rig.Kernel.Socket, xs, 20 + index, BlkbackRig.BackendDomain, 0, new BlkfrontDisk(image));
        _frontends.Add((front, xs));
        return new Disk(rig, front);
    }

    public async Task<string> WriteDeviceWithBadRingReferenceAsync(XenstoreClient xs, int domain)
    {
        const uint tx = XenstoreClient.NoTransaction;
        var c = CancellationToken.None;
        var image = rig.File("bad-keys.raw");
        DiskImages.CreateRaw(image, 1 << 20);
        var fe = XenbusPaths.Frontend(domain, "vbd", 0);
        var be = XenbusPaths.Backend(BlkbackRig.BackendDomain, "vbd", domain, 0);
        await xs.WriteAsync(tx, fe + "/backend", be, c);
        await xs.WriteAsync(tx, fe + "/ring-ref", "x", c);
        await xs.WriteAsync(tx, fe + "/event-channel", "5", c);
        await xs.WriteAsync(tx, fe + "/state", "3", c);
        await xs.WriteAsync(tx, be + "/params", image, c);
        await xs.WriteAsync(tx, be + "/frontend-id", domain.ToString(CultureInfo.InvariantCulture), c);
        await xs.WriteAsync(tx, be + "/state", "1", c);
        await xs.WriteAsync(tx, be + "/frontend", fe, c);
        return be;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (front, xs) in _frontends)
        {
            await front.DisposeAsync();
            await xs.DisposeAsync();
        }

        await rig.DisposeAsync();
    }

    private sealed class Disk(BlkbackRig rig, NativeBlkfront front) : ILifecycleDevice
    {
        private ulong _id;

        public string BackendPath => front.BackendPath;

        public string FrontendPath => front.FrontendPath;

        public Task AssertDataFlowsAsync()
        {
            var sector = (long)(_id % 64) * 8;
            Random.Shared.NextBytes(front.Page(0));
            Assert.Equal(BlkifResponse.StatusOkay, front.Do(NativeBlkfront.Request(BlkifOperation.Write, ++_id, sector, (0, 0, 7))));
            Assert.Equal(BlkifResponse.StatusOkay, front.Do(NativeBlkfront.Request(BlkifOperation.Read, ++_id, sector, (1, 0, 7))));
            Assert.True(front.Page(0).SequenceEqual(front.Page(1)), $"{front.BackendPath}: sector {sector} read back different\n{rig.Blkback.StdErr}");
            return Task.CompletedTask;
        }

        public void BreakRing() => front.CorruptRequestProducer(1000);

        /// <summary>§6: the restarted blkback says InitWait; the frontend initialises its ring afresh and reconnects (nothing was in flight).</summary>
        public async Task FollowBackendRestartAsync()
        {
            await front.WaitForBackendAsync(XenbusState.InitWait, TimeSpan.FromSeconds(30));
            await front.ReconnectAsync([], TimeSpan.FromSeconds(30));
        }

        public async Task<bool> StatusSaysConnectedAsync(bool expected)
        {
            var want = expected ? "connected" : "disconnected";
            var line = await rig.StatusAsync($"vbd{front.DomainId}.{front.DeviceId}", f => f["state"] == want);
            return line["state"] == want;
        }
    }
}
