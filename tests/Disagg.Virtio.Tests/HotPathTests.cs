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
}
