using Disagg.Abi.Io;
using Disagg.DiskImage;
using Disagg.TestSupport;

namespace Disagg.Blkback.Service.Tests;

/// <summary>The I/O loop against an in-process frontend and real image files: data moves by grant copy, lands in the file, comes back.</summary>
public sealed class DataPathTests
{
    private const short Ok = BlkifResponse.StatusOkay;

    [Fact]
    public void WritesLandInTheFileAndReadsBringThemBack()
    {
        using var h = new LoopHarness();
        var (fe, _) = h.AddRaw(1);
        Random.Shared.NextBytes(fe.Page(0));
        Random.Shared.NextBytes(fe.Page(1));
        Random.Shared.NextBytes(fe.Page(2));
        // 6 + 8 + 4 sectors from three pages, the first and last partial: the data straddles buffer pages.
        var expected = fe.Page(0)[(2 * 512)..].ToArray().Concat(fe.Page(1).ToArray()).Concat(fe.Page(2)[..(4 * 512)].ToArray()).ToArray();
        Assert.Equal(Ok, fe.Do(RingFrontend.Request(BlkifOperation.Write, 1, 1000, (0, 2, 7), (1, 0, 7), (2, 0, 3))));

        Assert.Equal(expected, HostFile.ReadAll(h.File("disk1.img")).AsSpan(1000 * 512, expected.Length).ToArray());

        fe.Page(10).Clear();
        fe.Page(11).Clear();
        fe.Page(12).Clear();
        Assert.Equal(Ok, fe.Do(RingFrontend.Request(BlkifOperation.Read, 2, 1000, (10, 2, 7), (11, 0, 7), (12, 0, 3))));
        var back = fe.Page(10)[(2 * 512)..].ToArray().Concat(fe.Page(11).ToArray()).Concat(fe.Page(12)[..(4 * 512)].ToArray()).ToArray();
        Assert.Equal(expected, back);
        Assert.True(fe.Page(10)[..(2 * 512)].IndexOfAnyExcept((byte)0) < 0, "a read wrote outside its sectors");
        Assert.True(fe.Page(12)[(4 * 512)..].IndexOfAnyExcept((byte)0) < 0, "a read wrote outside its sectors");
    }

    [Fact]
    public void IndirectRequestsMoveThirtyTwoPagesAtOnce()
    {
        using var h = new LoopHarness();
        var (fe, ring) = h.AddRaw(2);
        var segments = Enumerable.Range(0, 32).Select(i => (i, 0, 7)).ToArray();
        for (var i = 0; i < 32; i++)
        {
            Random.Shared.NextBytes(fe.Page(i));
        }

        var written = Enumerable.Range(0, 32).SelectMany(i => fe.Page(i).ToArray()).ToArray();
        Assert.Equal(Ok, fe.Do(fe.Indirect(BlkifOperation.Write, 7, 4096, 63, segments)));
        for (var i = 0; i < 32; i++)
        {
            fe.Page(i).Clear();
        }

        var rsp = fe.Do(fe.Indirect(BlkifOperation.Read, 8, 4096, 63, segments));
        Assert.Equal(Ok, rsp);
        Assert.Equal(written, Enumerable.Range(0, 32).SelectMany(i => fe.Page(i).ToArray()).ToArray());
        Assert.Equal(32 * 8 * 2, ring.Counters.SectorsRead + ring.Counters.SectorsWritten);
    }

    [Fact]
    public void ManyRequestsInFlightAreAllAnsweredOnceEach()
    {
        using var h = new LoopHarness();
        var (fe, _) = h.AddRaw(3);
        for (var round = 0; round < 20; round++)
        {
            var requests = new List<BlkifRequest>();
            for (var i = 0; i < 32; i++)
            {
                var id = (ulong)((round * 100) + i);
                requests.Add(i switch
                {
                    7 => new BlkifRequest { Operation = (byte)BlkifOperation.FlushDiskcache, Id = id },
                    15 => RingFrontend.Request(BlkifOperation.WriteBarrier, id, 64, (20, 0, 7)),
                    _ when i % 2 == 0 => RingFrontend.Request(BlkifOperation.Write, id, i * 8, (i, 0, 7)),
                    _ => RingFrontend.Request(BlkifOperation.Read, id, i * 8, (i, 0, 7)),
                });
            }

            fe.Submit([.. requests]);
            var responses = fe.Await(32);
            Assert.All(responses, r => Assert.Equal(Ok, r.Status));
            Assert.Equal(requests.Select(r => r.Id).Order(), responses.Select(r => r.Id).Order());
        }
    }

    [Fact]
    public void DiscardPunchesAHoleThatReadsAsZeros()
    {
        using var h = new LoopHarness();
        var (fe, ring) = h.AddRaw(4);
        for (var i = 0; i < 11; i++)
        {
            Random.Shared.NextBytes(fe.Page(i));
        }

        var all = Enumerable.Range(0, 11).Select(i => (i, 0, 7)).ToArray();
        for (var chunk = 0; chunk < 24; chunk++)
        {
            Assert.Equal(Ok, fe.Do(RingFrontend.Request(BlkifOperation.Write, (ulong)chunk, chunk * 88, all)));
        }

        Assert.Equal(Ok, fe.Do(new BlkifRequest { Operation = (byte)BlkifOperation.FlushDiskcache, Id = 99 }));
        var before = AllocatedBlocks(h.File("disk4.img"));
        var discard = new BlkifRequestDiscard { Operation = (byte)BlkifOperation.Discard, Id = 100, SectorNumber = 0, NrSectors = 24 * 88 };
        Assert.Equal(Ok, fe.Do(System.Runtime.InteropServices.MemoryMarshal.Cast<BlkifRequestDiscard, BlkifRequest>(new Span<BlkifRequestDiscard>(ref discard))[0]));
        var after = AllocatedBlocks(h.File("disk4.img"));
        Assert.True(after < before / 4, $"{before} blocks before the discard, {after} after");
        Assert.Equal(Ok, fe.Do(RingFrontend.Request(BlkifOperation.Read, 101, 100, all)));
        Assert.True(fe.Page(0).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(1, ring.Counters.Discards);
    }

    [Fact]
    public async Task Qcow2WrittenThroughTheRingPassesQemuImgCheckAndCompare()
    {
        using var h = new LoopHarness();
        var qcow = h.File("disk.qcow2");
        var expected = h.File("expected.raw");
        DiskImages.CreateQcow2(qcow, 16 << 20);
        var image = DiskImages.Open(qcow, DiskImageFormat.Qcow2, readOnly: false);
        var (fe, ring) = h.Add(5, image);
        var model = new byte[16 << 20];
        var random = new Random(5);
        for (var i = 0; i < 200; i++)
        {
            var pages = random.Next(1, 12);
            var sector = random.Next(0, (16 << 11) - (pages * 8));
            var segments = new (int, int, int)[pages];
            for (var p = 0; p < pages; p++)
            {
                random.NextBytes(fe.Page(p));
                segments[p] = (p, 0, 7);
                fe.Page(p).CopyTo(model.AsSpan(((sector + (p * 8)) * 512)..));
            }

            Assert.Equal(Ok, fe.Do(RingFrontend.Request(BlkifOperation.Write, (ulong)i, sector, segments)));
        }

        Assert.Equal(Ok, fe.Do(new BlkifRequest { Operation = (byte)BlkifOperation.FlushDiskcache, Id = 999 }));
        await h.Loop.DetachAsync(ring);
        image.Dispose();
        File.WriteAllBytes(expected, model);
        var check = HostProcess.Run("qemu-img", ["check", "-f", "qcow2", qcow], TimeSpan.FromSeconds(60));
        Assert.True(check.ExitCode == 0, "qemu-img check: " + check);
        var compare = HostProcess.Run("qemu-img", ["compare", "-f", "qcow2", "-F", "raw", qcow, expected], TimeSpan.FromSeconds(60));
        Assert.True(compare.ExitCode == 0, "qemu-img compare: " + compare);
    }

    internal static long AllocatedBlocks(string path)
    {
        var r = HostProcess.Run("stat", ["-c", "%b", path], TimeSpan.FromSeconds(10));
        return long.Parse(r.StdOut.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
