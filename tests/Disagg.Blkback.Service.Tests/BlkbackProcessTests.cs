using Disagg.Abi.Io;
using Disagg.Blkback.Formats;
using Disagg.Blkfront.Native;
using Disagg.TestSupport;

namespace Disagg.Blkback.Service.Tests;

/// <summary>
/// The real disagg-blkback against native frontends through the real kernel and a real xenstored: the
/// xenbus dance, data by grant copy, images judged by qemu-img, hostile frontends, and SIGKILL under load.
/// </summary>
[Collection("blkback processes")]
public sealed class BlkbackProcessTests : IAsyncLifetime
{
    private const short Ok = BlkifResponse.StatusOkay;
    private BlkbackRig _rig = null!;

    public async Task InitializeAsync() => _rig = await BlkbackRig.StartAsync();

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    [Fact]
    public async Task RawAndQcow2RoundTripAndQemuImgAgreesWithWhatWasWritten()
    {
        var raw = _rig.File("disk.raw");
        var qcow = _rig.File("disk.qcow2");
        DiskImage.CreateRaw(raw, 16 << 20);
        DiskImage.CreateQcow2(qcow, 16 << 20);
        var rawFront = await _rig.AttachAsync(new BlkfrontDisk(raw));
        var qcowFront = await _rig.AttachAsync(new BlkfrontDisk(qcow, "qcow2"));
        Assert.Equal((16 << 20) / 512, rawFront.Sectors);
        Assert.Equal(32, qcowFront.MaxIndirectSegments);
        var models = new Dictionary<NativeBlkfront, byte[]> { [rawFront] = new byte[16 << 20], [qcowFront] = new byte[16 << 20] };
        var random = new Random(8);
        ulong id = 0;
        foreach (var (front, model) in models)
        {
            for (var i = 0; i < 60; i++)
            {
                var pages = random.Next(1, i % 5 == 0 ? 33 : 12);
                var sector = random.Next(0, (16 << 11) - (pages * 8));
                var segments = Enumerable.Range(0, pages).Select(p => (p, 0, 7)).ToArray();
                for (var p = 0; p < pages; p++)
                {
                    random.NextBytes(front.Page(p));
                    front.Page(p).CopyTo(model.AsSpan((sector + (p * 8)) * 512));
                }

                var request = pages > 11
                    ? front.Indirect(BlkifOperation.Write, ++id, sector, 100, segments)
                    : NativeBlkfront.Request(BlkifOperation.Write, ++id, sector, segments);
                Assert.Equal(Ok, front.Do(request));
            }

            Assert.Equal(Ok, front.Do(new BlkifRequest { Operation = (byte)BlkifOperation.FlushDiskcache, Id = ++id }));
            // Everything back through the ring, 44 KiB at a time.
            for (var sector = 0; sector < 16 << 11; sector += 88)
            {
                var n = Math.Min(11, ((16 << 11) - sector) / 8);
                Assert.Equal(Ok, front.Do(NativeBlkfront.Request(BlkifOperation.Read, ++id, sector, [.. Enumerable.Range(0, n).Select(p => (p, 0, 7))])));
                for (var p = 0; p < n; p++)
                {
                    Assert.True(front.Page(p).SequenceEqual(model.AsSpan((sector + (p * 8)) * 512, 4096)), $"{front.BackendPath}: sector {sector + (p * 8)} reads back different");
                }
            }
        }

        await _rig.DetachAsync(rawFront);
        await _rig.DetachAsync(qcowFront);
        var expectedRaw = _rig.File("expected.raw");
        var expectedQcow = _rig.File("expected-qcow.raw");
        await File.WriteAllBytesAsync(expectedRaw, models[rawFront]);
        await File.WriteAllBytesAsync(expectedQcow, models[qcowFront]);
        await WaitUntilClosedAsync(qcow);
        var check = HostProcess.Run("qemu-img", ["check", "-f", "qcow2", qcow], TimeSpan.FromSeconds(60));
        Assert.True(check.ExitCode == 0, "qemu-img check: " + check);
        var compare = HostProcess.Run("qemu-img", ["compare", "-f", "qcow2", "-F", "raw", qcow, expectedQcow], TimeSpan.FromSeconds(60));
        Assert.True(compare.ExitCode == 0, "qemu-img compare (qcow2): " + compare);
        compare = HostProcess.Run("qemu-img", ["compare", "-f", "raw", "-F", "raw", raw, expectedRaw], TimeSpan.FromSeconds(60));
        Assert.True(compare.ExitCode == 0, "qemu-img compare (raw): " + compare);
    }

    [Fact]
    public async Task ReadOnlyDiskRefusesWritesAndASecondWriterIsRefused()
    {
        var image = _rig.File("shared.raw");
        DiskImage.CreateRaw(image, 4 << 20);
        var reader = await _rig.AttachAsync(new BlkfrontDisk(image, ReadOnly: true));
        var another = await _rig.AttachAsync(new BlkfrontDisk(image, ReadOnly: true)); // read-only to several
        Assert.Equal(BlkifResponse.StatusError, reader.Do(NativeBlkfront.Request(BlkifOperation.Write, 1, 0, (0, 0, 7))));
        Assert.Equal(Ok, another.Do(NativeBlkfront.Request(BlkifOperation.Read, 2, 0, (0, 0, 7))));
        Assert.Equal("4", await _rig.Xs.ReadAsync(0, reader.BackendPath + "/info", CancellationToken.None));
        await _rig.DetachAsync(reader);
        await _rig.DetachAsync(another);

        var writer = await _rig.AttachAsync(new BlkfrontDisk(image));
        var refused = await Assert.ThrowsAsync<TimeoutException>(() => _rig.AttachAsync(new BlkfrontDisk(image), timeout: TimeSpan.FromSeconds(5)));
        Assert.Contains("Locked", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(Ok, writer.Do(NativeBlkfront.Request(BlkifOperation.Write, 3, 0, (0, 0, 7))));
    }

    [Fact]
    public async Task HostileFrontendGetsErrorsOrIsDisconnectedAndTheOtherDeviceKeepsWorking()
    {
        var a = _rig.File("a.raw");
        var b = _rig.File("b.raw");
        DiskImage.CreateRaw(a, 4 << 20);
        DiskImage.CreateRaw(b, 4 << 20);
        var liar = await _rig.AttachAsync(new BlkfrontDisk(a));
        var honest = await _rig.AttachAsync(new BlkfrontDisk(b));
        // Grants the kernel refuses: a ref never granted, a ref past the table.
        var bad = NativeBlkfront.Request(BlkifOperation.Write, 1, 0, (0, 0, 7));
        unsafe
        {
            ((BlkifSegment*)bad.Segments)[0].Gref = 400;
        }

        Assert.Equal(BlkifResponse.StatusError, liar.Do(bad));
        unsafe
        {
            ((BlkifSegment*)bad.Segments)[0].Gref = 100_000;
        }

        Assert.Equal(BlkifResponse.StatusError, liar.Do(bad));
        Assert.Equal(BlkifResponse.StatusError, liar.Do(NativeBlkfront.Request(BlkifOperation.Read, 2, (4 << 11) - 1, (0, 0, 7))));
        Assert.Equal(BlkifResponse.StatusNotSupported, liar.Do(new BlkifRequest { Operation = 77, Id = 3 }));
        Assert.Equal(BlkifResponse.StatusError, liar.Do(NativeBlkfront.Request(BlkifOperation.Write, 4, 0, (0, 6, 2))));

        // Garbage ring indices: req_prod a thousand requests ahead. That device is disconnected.
        liar.CorruptRequestProducer(1000);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await liar.BackendStateAsync() != XenbusState.Closed && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(XenbusState.Closed, await liar.BackendStateAsync());
        Assert.Contains("ProducerTooFarAhead", await _rig.Xs.ReadAsync(0, liar.BackendPath + "/error", CancellationToken.None) ?? "", StringComparison.Ordinal);
        for (var i = 0; i < 20; i++)
        {
            Random.Shared.NextBytes(honest.Page(0));
            Assert.Equal(Ok, honest.Do(NativeBlkfront.Request(BlkifOperation.Write, (ulong)(10 + i), i * 8, (0, 0, 7))));
            Assert.Equal(Ok, honest.Do(NativeBlkfront.Request(BlkifOperation.Read, (ulong)(100 + i), i * 8, (1, 0, 7))));
            Assert.True(honest.Page(0).SequenceEqual(honest.Page(1)));
        }

        Assert.True(_rig.Blkback.Running, "blkback died: " + _rig.Blkback.StdErr);
        Assert.True(HostFile.ReadAll(a).AsSpan().IndexOfAnyExcept((byte)0) < 0, "a refused write reached the image");
    }

    private static async Task WaitUntilClosedAsync(string image)
    {
        // Detaching removes the directories; blkback closes the image when it sees that. Its lock says when.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var probe = new FileStream(image, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                return;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}
