using System.Runtime.InteropServices;
using Disagg.Abi.Io;

namespace Disagg.Blkback.Service.Tests;

/// <summary>
/// Requests no honest frontend sends (ARCHITECTURE §1: every byte that crosses a boundary is untrusted): each
/// gets an error response, the image is not touched, and the device (and every other) keeps serving.
/// </summary>
public sealed class HostileRequestTests
{
    private const short Error = BlkifResponse.StatusError;
    private const short NotSupported = BlkifResponse.StatusNotSupported;
    private const long DiskSectors = (8 << 20) / 512;

    public static TheoryData<string, short> Cases => new()
    {
        { "write past the end", Error },
        { "read straddling the end", Error },
        { "sector near 2^64", Error },
        { "twelve segments", Error },
        { "read of no segments", Error },
        { "first sector after last", Error },
        { "last sector outside the page", Error },
        { "grant that does not exist", Error },
        { "second segment's grant does not exist", Error },
        { "read into a read-only grant", Error },
        { "unknown operation", NotSupported },
        { "indirect with no segments", Error },
        { "indirect over the limit", Error },
        { "indirect discard", Error },
        { "indirect descriptor grant that does not exist", Error },
        { "indirect segment outside the page", Error },
        { "discard past the end", Error },
        { "secure discard", NotSupported },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadRequestGetsAnErrorAndTouchesNothing(string what, short expected)
    {
        using var h = new LoopHarness();
        var (fe, ring) = h.AddRaw(1);
        Random.Shared.NextBytes(fe.Page(0));
        var before = Hash(h.File("disk1.img"));
        var request = Build(fe, h, what);
        Assert.Equal(expected, fe.Do(request));
        Assert.Equal(before, Hash(h.File("disk1.img")));
        Assert.Equal(8 << 20, new FileInfo(h.File("disk1.img")).Length);
        // Still serving, and the good request works.
        Assert.Equal(BlkifResponse.StatusOkay, fe.Do(RingFrontend.Request(BlkifOperation.Write, 77, 0, (0, 0, 7))));
        Assert.Null(ring.FaultReason);
        Assert.Empty(h.Failures);
    }

    [Fact]
    public async Task ReadOnlyDiskRefusesWritesAndDiscardsButServesReadsAndFlushes()
    {
        using var h = new LoopHarness();
        var (writer, writerRing) = h.AddRaw(1, name: "shared.img");
        Random.Shared.NextBytes(writer.Page(0));
        Assert.Equal(BlkifResponse.StatusOkay, writer.Do(RingFrontend.Request(BlkifOperation.Write, 1, 8, (0, 0, 7))));
        await h.Loop.DetachAsync(writerRing);
        writerRing.Image.Dispose();

        var (fe, ring) = h.AddRaw(2, readOnly: true, name: "shared.img");
        var (other, _) = h.AddRaw(3, readOnly: true, name: "shared.img"); // read-only to several is fine
        var before = Hash(h.File("shared.img"));
        Assert.Equal(Error, fe.Do(RingFrontend.Request(BlkifOperation.Write, 2, 8, (1, 0, 7))));
        Assert.Equal(Error, fe.Do(RingFrontend.Request(BlkifOperation.WriteBarrier, 3, 8, (1, 0, 7))));
        Assert.Equal(Error, fe.Do(Discard(4, 0, 8, 0)));
        Assert.Equal(BlkifResponse.StatusOkay, fe.Do(new BlkifRequest { Operation = (byte)BlkifOperation.FlushDiskcache, Id = 5 }));
        Assert.Equal(BlkifResponse.StatusOkay, other.Do(RingFrontend.Request(BlkifOperation.Read, 6, 8, (5, 0, 7))));
        Assert.Equal(writer.Page(0).ToArray(), other.Page(5).ToArray());
        Assert.Equal(before, Hash(h.File("shared.img")));
        Assert.Equal(3, ring.Counters.Refused);
    }

    [Fact]
    public void GarbageRingIndicesDisconnectThatDeviceAndTheOtherKeepsWorking()
    {
        using var h = new LoopHarness();
        var (liar, liarRing) = h.AddRaw(1);
        var (honest, _) = h.AddRaw(2);
        var before = Hash(h.File("disk1.img"));
        Assert.Equal(BlkifResponse.StatusOkay, liar.Do(RingFrontend.Request(BlkifOperation.Read, 1, 0, (0, 0, 7))));
        liar.Shared.ReqProd += 1000; // a producer a thousand requests ahead of a 32-slot ring
        h.Channel.Raise(11);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (h.Faulted.IsEmpty && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        Assert.True(h.Faulted.TryDequeue(out var faulted), "the loop did not report the lying ring");
        Assert.Same(liarRing, faulted);
        Assert.Contains("ProducerTooFarAhead", liarRing.FaultReason, StringComparison.Ordinal);
        for (var i = 0; i < 50; i++)
        {
            Random.Shared.NextBytes(honest.Page(0));
            Assert.Equal(BlkifResponse.StatusOkay, honest.Do(RingFrontend.Request(BlkifOperation.Write, (ulong)i, i * 8, (0, 0, 7))));
            Assert.Equal(BlkifResponse.StatusOkay, honest.Do(RingFrontend.Request(BlkifOperation.Read, (ulong)i, i * 8, (1, 0, 7))));
            Assert.Equal(honest.Page(0).ToArray(), honest.Page(1).ToArray());
        }

        Assert.Equal(before, Hash(h.File("disk1.img")));
        Assert.Empty(h.Failures);
    }

    private static BlkifRequest Build(RingFrontend fe, LoopHarness h, string what)
    {
        switch (what)
        {
            case "write past the end": return RingFrontend.Request(BlkifOperation.Write, 1, DiskSectors, (0, 0, 0));
            case "read straddling the end": return RingFrontend.Request(BlkifOperation.Read, 1, DiskSectors - 4, (0, 0, 7));
            case "sector near 2^64":
                var r = RingFrontend.Request(BlkifOperation.Write, 1, 0, (0, 0, 7));
                r.SectorNumber = ulong.MaxValue - 3;
                return r;
            case "twelve segments":
                var twelve = RingFrontend.Request(BlkifOperation.Write, 1, 0, (0, 0, 7));
                twelve.NrSegments = 12;
                return twelve;
            case "read of no segments": return RingFrontend.Request(BlkifOperation.Read, 1, 0);
            case "first sector after last": return RingFrontend.Request(BlkifOperation.Write, 1, 0, (0, 5, 2));
            case "last sector outside the page": return RingFrontend.Request(BlkifOperation.Write, 1, 0, (0, 0, 8));
            case "grant that does not exist": return RingFrontend.Request(BlkifOperation.Write, 1, 0, (5000, 0, 7));
            case "second segment's grant does not exist": return RingFrontend.Request(BlkifOperation.Write, 1, 0, (0, 0, 7), (5000, 0, 7));
            case "read into a read-only grant":
                unsafe
                {
                    h.Channel.Grant(fe.Domain, RingFrontend.FirstRef + 9, fe.Pages + (9 * RingFrontend.PageSize), readOnly: true);
                }

                return RingFrontend.Request(BlkifOperation.Read, 1, 0, (9, 0, 7));
            case "unknown operation": return new BlkifRequest { Operation = 99, Id = 1 };
            case "indirect with no segments": return fe.Indirect(BlkifOperation.Write, 1, 0, 63);
            case "indirect over the limit": return fe.Indirect(BlkifOperation.Write, 1, 0, 63, [.. Enumerable.Range(0, 33).Select(i => (i, 0, 7))]);
            case "indirect discard": return fe.Indirect(BlkifOperation.Discard, 1, 0, 63, (0, 0, 7));
            case "indirect descriptor grant that does not exist":
                var ind = fe.Indirect(BlkifOperation.Write, 1, 0, 63, (0, 0, 7));
                unsafe
                {
                    MemoryMarshal.Cast<BlkifRequest, BlkifRequestIndirect>(new Span<BlkifRequest>(ref ind))[0].IndirectGrefs[0] = 4242;
                }

                return ind;
            case "indirect segment outside the page": return fe.Indirect(BlkifOperation.Write, 1, 0, 63, (0, 0, 7), (1, 3, 9));
            case "discard past the end": return Discard(1, DiskSectors - 1, 2, 0);
            case "secure discard": return Discard(1, 0, 8, BlkifRequestDiscard.FlagSecure);
            default: throw new ArgumentException(what);
        }
    }

    private static BlkifRequest Discard(ulong id, long sector, long count, byte flag)
    {
        var d = new BlkifRequestDiscard { Operation = (byte)BlkifOperation.Discard, Id = id, SectorNumber = (ulong)sector, NrSectors = (ulong)count, Flag = flag };
        return MemoryMarshal.Cast<BlkifRequestDiscard, BlkifRequest>(new Span<BlkifRequestDiscard>(ref d))[0];
    }

    private static string Hash(string path) => HostFile.Hash(path);
}
