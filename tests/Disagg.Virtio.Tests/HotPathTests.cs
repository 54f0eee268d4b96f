using Disagg.DiskImage;
using Disagg.Virtio.Blk;
using Disagg.Virtio.Tests.Driver;
using Disagg.Virtio.Transport;

namespace Disagg.Virtio.Tests;

/// <summary>The per-request path allocates nothing (STYLE.md: hot paths allocate nothing).</summary>
public sealed class HotPathTests
{
    [Fact]
    public void ServingABatchOfBlockRequestsAllocatesNothing()
    {
        using var dir = new TempDir();
        DiskImages.CreateRaw(dir.File("h.raw"), 4 << 20);
        using var image = DiskImages.Open(dir.File("h.raw"), DiskImageFormat.Raw, readOnly: false);
        var g = new BlkGuest(image);
        for (var round = 0; round < 3; round++)
        {
            // The driver side (the test) builds 64 requests first; only the device's work is measured.
            var statuses = new ulong[64];
            for (var i = 0; i < statuses.Length; i++)
            {
                statuses[i] = i % 2 == 0
                    ? g.Enqueue(VirtioBlk.TypeIn, (ulong)(i * 8), inLength: 4096)
                    : g.Enqueue(VirtioBlk.TypeOut, (ulong)(i * 8), outData: new byte[4096]);
            }

            g.Queue.Publish();
            var before = GC.GetAllocatedBytesForCurrentThread();
            Assert.True(g.Driver.Transport.TryWrite(VirtioMmioRegister.QueueNotify, 4, 0));
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            for (var i = 0; i < statuses.Length; i++)
            {
                Assert.True(g.Queue.TryTakeUsed(out _, out _));
                Assert.Equal(VirtioBlk.StatusOk, g.Peek(statuses[i], 1)[0]);
            }

            if (round > 0) // the first round warms up (JIT, tiering)
            {
                Assert.Equal(0, allocated);
            }
        }
    }

    [Fact]
    public void AnIndirectChainIsReadInOneCopyAndAvailIdxOncePerBatch()
    {
        // qemu-dm's guest-memory copies go through the kernel: count them.
        using var dir = new TempDir();
        DiskImages.CreateRaw(dir.File("c.raw"), 1 << 20);
        using var image = DiskImages.Open(dir.File("c.raw"), DiskImageFormat.Raw, readOnly: false);
        RecordingMemory? recorder = null;
        var device = new VirtioBlkDevice("vda", image, "s");
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(device, recorder = new RecordingMemory(ram), irq));
        var q = d.Bringup(Device.VirtioDeviceType.Block, 1)[0];
        var tables = new List<ulong>();
        for (var i = 0; i < 8; i++)
        {
            var header = d.Alloc(16);
            Assert.True(d.Ram.TryWrite(header, BitConverter.GetBytes(VirtioBlk.TypeIn)));
            var before = d.NextFree;
            q.AddIndirect((header, 16, false), (d.Alloc(1024), 1024, true), (d.Alloc(1024), 1024, true), (d.Alloc(2048), 2048, true), (d.Alloc(1), 1, true));
            tables.Add(d.NextFree - (5 * 16));
            Assert.True(d.NextFree > before);
        }

        q.Publish();
        recorder!.Recording = true;
        q.Kick();
        recorder.Recording = false;
        for (var i = 0; i < 8; i++)
        {
            Assert.True(q.TryTakeUsed(out _, out var len));
            Assert.Equal(4097u, len);
        }

        foreach (var table in tables)
        {
            var touching = recorder.Reads.Where(r => r.Address < table + 80 && table < r.Address + r.Length).ToList();
            Assert.Equal([(table, 80UL)], touching);
        }

        var availIdxReads = recorder.Reads.Count(r => r.Address == q.Avail + 2);
        Assert.True(availIdxReads <= 3, $"{availIdxReads} reads of avail.idx for one batch");
    }
}
