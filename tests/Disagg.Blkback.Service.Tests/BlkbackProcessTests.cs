using System.Globalization;
using Disagg.Abi.Io;
using Disagg.DiskImage;
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
        DiskImages.CreateRaw(raw, 16 << 20);
        DiskImages.CreateQcow2(qcow, 16 << 20);
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
        DiskImages.CreateRaw(image, 4 << 20);
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
    public async Task AFourPageRingCarries128RequestsInFlightAndAnOrderPastTheMaximumIsRefused()
    {
        var image = _rig.File("ring4.raw");
        DiskImages.CreateRaw(image, 4 << 20);
        var front = await _rig.AttachAsync(new BlkfrontDisk(image), pages: 256, ringPageOrder: 2);
        Assert.Equal(4, front.RingRefs.Length);
        Assert.Equal(128, front.Ring.Size);

        // 128 writes of distinct pages pushed at once, then 128 reads of them into other pages.
        var random = new Random(4);
        for (var i = 0; i < 128; i++)
        {
            random.NextBytes(front.Page(i));
            front.Ring.NextRequest() = NativeBlkfront.Request(BlkifOperation.Write, (ulong)i, i * 8, (i, 0, 7));
        }

        Assert.Equal(0, front.Ring.FreeRequests);
        Drain(front, 128);
        for (var i = 0; i < 128; i++)
        {
            front.Ring.NextRequest() = NativeBlkfront.Request(BlkifOperation.Read, (ulong)(1000 + i), i * 8, (128 + i, 0, 7));
        }

        Drain(front, 128);
        for (var i = 0; i < 128; i++)
        {
            Assert.True(front.Page(i).SequenceEqual(front.Page(128 + i)), $"page {i} read back differs");
        }

        // 2^5 pages is past the max-ring-page-order we offer (4): the device says why and stays unconnected.
        var other = _rig.File("ring32.raw");
        DiskImages.CreateRaw(other, 1 << 20);
        var refused = await Assert.ThrowsAsync<TimeoutException>(() => _rig.AttachAsync(new BlkfrontDisk(other), pages: 8, timeout: TimeSpan.FromSeconds(3), ringPageOrder: 5));
        Assert.Contains("ring-page-order '5'", refused.Message, StringComparison.Ordinal);
        Assert.False(_rig.Blkback.HasExited, "blkback died: " + _rig.Blkback.StdErr);

        static void Drain(NativeBlkfront front, int count)
        {
            front.Push();
            var seen = 0;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (seen < count && DateTime.UtcNow < deadline)
            {
                while (front.Ring.TryTakeResponse(out var rsp))
                {
                    Assert.Equal(Ok, rsp.Status);
                    seen++;
                }

                front.WaitForResponses(TimeSpan.FromMilliseconds(100));
            }

            Assert.Equal(count, seen);
        }
    }

    [Fact]
    public async Task HostileFrontendGetsErrorsOrIsDisconnectedAndTheOtherDeviceKeepsWorking()
    {
        var a = _rig.File("a.raw");
        var b = _rig.File("b.raw");
        DiskImages.CreateRaw(a, 4 << 20);
        DiskImages.CreateRaw(b, 4 << 20);
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

        // Garbage ring indices: req_prod a thousand requests ahead. That device is disconnected and Closing
        // with the reason in its error node (Xen's xenbus_dev_fatal, as every backend does it).
        liar.CorruptRequestProducer(1000);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await liar.BackendStateAsync() != XenbusState.Closing && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(XenbusState.Closing, await liar.BackendStateAsync());
        Assert.Contains("ProducerTooFarAhead", await _rig.Xs.ReadAsync(0, liar.BackendPath + "/error", CancellationToken.None) ?? "", StringComparison.Ordinal);
        for (var i = 0; i < 20; i++)
        {
            Random.Shared.NextBytes(honest.Page(0));
            Assert.Equal(Ok, honest.Do(NativeBlkfront.Request(BlkifOperation.Write, (ulong)(10 + i), i * 8, (0, 0, 7))));
            Assert.Equal(Ok, honest.Do(NativeBlkfront.Request(BlkifOperation.Read, (ulong)(100 + i), i * 8, (1, 0, 7))));
            Assert.True(honest.Page(0).SequenceEqual(honest.Page(1)));
        }

        Assert.False(_rig.Blkback.HasExited, "blkback died: " + _rig.Blkback.StdErr);
        Assert.True(HostFile.ReadAll(a).AsSpan().IndexOfAnyExcept((byte)0) < 0, "a refused write reached the image");
    }

    [Fact]
    public async Task TheStatusFileShowsEachDeviceWithWhatItDid()
    {
        var image = _rig.File("status.raw");
        DiskImages.CreateRaw(image, 4 << 20);
        var front = await _rig.AttachAsync(new BlkfrontDisk(image));
        var name = $"vbd{front.DomainId}.{front.DeviceId}";
        var connected = await _rig.StatusAsync(name, f => f["state"] == "connected"); // the file may be from before the connect
        Assert.Equal("0", connected["requests"]);

        const int writes = 12, reads = 7;
        ulong id = 0;
        for (var i = 0; i < writes; i++)
        {
            Random.Shared.NextBytes(front.Page(0));
            Assert.Equal(Ok, front.Do(NativeBlkfront.Request(BlkifOperation.Write, ++id, i * 16, (0, 0, 7), (1, 0, 7)))); // 16 sectors
        }

        for (var i = 0; i < reads; i++)
        {
            Assert.Equal(Ok, front.Do(NativeBlkfront.Request(BlkifOperation.Read, ++id, i * 8, (2, 1, 4)))); // 4 sectors
        }

        Assert.Equal(Ok, front.Do(new BlkifRequest { Operation = (byte)BlkifOperation.FlushDiskcache, Id = ++id }));
        Assert.Equal(BlkifResponse.StatusError, front.Do(NativeBlkfront.Request(BlkifOperation.Read, ++id, (4 << 11) - 1, (0, 0, 7)))); // past the end
        var requests = writes + reads + 2;

        var line = await _rig.StatusAsync(name, f => f["requests"] == N(requests));
        Assert.Equal(N(front.DomainId), line["domain"]);
        Assert.Equal(N(front.DeviceId), line["device"]);
        Assert.Equal("xvda", line["vdev"]);
        Assert.Equal(image, line["image"]);
        Assert.Equal("raw", line["format"]);
        Assert.Equal("w", line["mode"]);
        Assert.Equal("connected", line["state"]);
        Assert.Equal(N(writes), line["writes"]);
        Assert.Equal(N(writes * 16), line["sectors_written"]);
        Assert.Equal(N(reads), line["reads"]);
        Assert.Equal(N(reads * 4), line["sectors_read"]);
        Assert.Equal("1", line["flushes"]);
        Assert.Equal("1", line["refused"]);
        Assert.Equal("0", line["discards"]);
        Assert.Equal("0", line["io_failures"]);
        Assert.Equal("0", line["copy_failures"]);
        Assert.Equal("0", line["in_flight"]); // every request was answered

        var loop = await _rig.StatusAsync("loop", f => long.Parse(f["requests"], CultureInfo.InvariantCulture) >= requests);
        var batches = long.Parse(loop["batches"], CultureInfo.InvariantCulture);
        Assert.InRange(batches, 1, long.Parse(loop["requests"], CultureInfo.InvariantCulture));
        Assert.True(long.TryParse(loop["allocated_bytes"], CultureInfo.InvariantCulture, out _), string.Join(' ', loop));

        // The frontend closes: the device stays, disconnected, with the counters of its connection.
        await _rig.Xs.WriteAsync(0, front.FrontendPath + "/state", "6", CancellationToken.None);
        var closed = await _rig.StatusAsync(name, f => f["state"] == "disconnected");
        Assert.Equal(N(writes), closed["writes"]);
        Assert.Equal(N(reads), closed["reads"]);

        // The toolstack removes the device: its line goes.
        await _rig.DetachAsync(front);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        var status = Path.Combine(_rig.StateDirectory, "status");
        while (File.ReadAllLines(status).Any(l => l.StartsWith(name + " ", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{name} still in the status file after its directory went");
            await Task.Delay(100);
        }

        static string N(long n) => n.ToString(CultureInfo.InvariantCulture);
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
