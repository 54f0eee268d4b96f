using System.Runtime.InteropServices;
using Disagg.Abi.Io;

namespace Disagg.Ring.Tests;

/// <summary>
/// The byte rings of the xenstore and console pages, over guarded memory: wrap-around, partial reads and
/// writes, free-running indices across 2^32, and hostile indices that must stop the ring without a byte
/// read or written outside it.
/// </summary>
public sealed unsafe class ByteRingTests : IDisposable
{
    private const int ReqCons = 2048;
    private const int ReqProd = 2052;
    private readonly GuardedRing _mem = new(4096); // one page, as the guest shares it

    public void Dispose() => _mem.Dispose();

    private Span<byte> Page => new(_mem.Ring, _mem.Bytes);

    private ref XenstoreDomainInterface Interface => ref *(XenstoreDomainInterface*)_mem.Ring;

    /// <summary>The xenstore req ring: the guest produces, the server consumes.</summary>
    private ByteRing Req => new(Page, 0, XenstoreDomainInterface.RingSize, ReqCons, ReqProd);

    private static byte[] Pattern(int n, int seed) => Enumerable.Range(0, n).Select(i => (byte)(i * 7 + seed)).ToArray();

    [Fact]
    public void BytesWrittenAreReadBackInOrder()
    {
        var data = Pattern(100, 1);
        Assert.True(Req.TryWrite(data, out var written));
        Assert.Equal(100, written);
        Assert.Equal(100u, Interface.ReqProd);
        Assert.True(Req.TryGetUnconsumed(out var unconsumed));
        Assert.Equal(100, unconsumed);
        var back = new byte[200];
        Assert.True(Req.TryRead(back, out var read));
        Assert.Equal(100, read);
        Assert.Equal(data, back[..100]);
        Assert.Equal(100u, Interface.ReqCons);
        Assert.True(Req.IsEmpty);
        Assert.True(_mem.CanariesIntact());
    }

    [Fact]
    public void AMessageWrapsAroundTheEndOfTheRing()
    {
        Interface.ReqCons = Interface.ReqProd = 1000; // 24 bytes before the end
        var data = Pattern(300, 3);
        Assert.True(Req.TryWrite(data, out var written));
        Assert.Equal(300, written);
        Assert.Equal(data[..24], Page.Slice(1000, 24).ToArray());
        Assert.Equal(data[24..], Page[..276].ToArray());
        var back = new byte[300];
        Assert.True(Req.TryRead(back, out var read));
        Assert.Equal(300, read);
        Assert.Equal(data, back);
        Assert.True(_mem.CanariesIntact());
    }

    [Fact]
    public void IndicesRunFreeAcrossTwoToThe32()
    {
        Interface.ReqCons = Interface.ReqProd = uint.MaxValue - 10;
        var data = Pattern(50, 5);
        Assert.True(Req.TryWrite(data, out _));
        Assert.Equal(39u, Interface.ReqProd); // wrapped
        var back = new byte[50];
        Assert.True(Req.TryRead(back, out var read));
        Assert.Equal(50, read);
        Assert.Equal(data, back);
        Assert.Equal(39u, Interface.ReqCons);
    }

    [Fact]
    public void AWriteTakesOnlyTheRoomThereIsAndAFullRingTakesNothing()
    {
        Assert.True(Req.TryWrite(Pattern(1000, 0), out var first));
        Assert.Equal(1000, first);
        Assert.True(Req.TryWrite(Pattern(100, 9), out var second));
        Assert.Equal(24, second); // partial: the rest waits for the consumer
        Assert.True(Req.TryWrite(Pattern(10, 9), out var third));
        Assert.Equal(0, third);
        Assert.Equal(1024u, Interface.ReqProd);
        Assert.True(_mem.CanariesIntact());
    }

    [Fact]
    public void AReadTakesOnlyWhatFitsItsBufferAndTheRestStays()
    {
        var data = Pattern(100, 2);
        Req.TryWrite(data, out _);
        var part = new byte[30];
        Assert.True(Req.TryRead(part, out var read));
        Assert.Equal(30, read);
        Assert.Equal(data[..30], part);
        Assert.True(Req.TryGetUnconsumed(out var left));
        Assert.Equal(70, left);
        var rest = new byte[70];
        Assert.True(Req.TryRead(rest, out _));
        Assert.Equal(data[30..], rest);
    }

    [Theory]
    [InlineData(0u, 1025u)] // prod a byte more than a ring ahead
    [InlineData(0u, 0x8000_0000u)] // far ahead
    [InlineData(100u, 50u)] // prod behind cons: unsigned distance is huge
    public void HostileIndicesBreakTheRingWithoutTouchingAnythingOutsideIt(uint cons, uint prod)
    {
        Interface.ReqCons = cons;
        Interface.ReqProd = prod;
        var buffer = new byte[4096];
        Assert.False(Req.TryRead(buffer, out var read));
        Assert.False(Req.TryWrite(Pattern(10, 1), out var written));
        Assert.False(Req.TryGetUnconsumed(out _));
        Assert.Equal(0, read);
        Assert.Equal(0, written);
        Assert.Equal((cons, prod), (Interface.ReqCons, Interface.ReqProd)); // nothing moved
        Assert.All(buffer, b => Assert.Equal(0, b));
        Assert.True(_mem.CanariesIntact());
    }

    [Fact]
    public void DiscardingABrokenRingCatchesTheConsumerUpWithTheProducer()
    {
        Interface.ReqCons = 0;
        Interface.ReqProd = 5000;
        Req.DiscardAll();
        Assert.Equal(5000u, Interface.ReqCons);
        Assert.True(Req.IsEmpty);
        Assert.True(Req.TryGetUnconsumed(out var n));
        Assert.Equal(0, n);
    }

    [Fact]
    public void TheConsolePagesOutRingIsTwoKibibytes()
    {
        var page = Page[..sizeof(ConsoleInterface)];
        var outRing = new ByteRing(page, 1024, ConsoleInterface.OutSize, 3080, 3084);
        var data = Pattern(2048, 4);
        Assert.True(outRing.TryWrite(data, out var written));
        Assert.Equal(2048, written);
        Assert.Equal(data, page.Slice(1024, 2048).ToArray());
        Assert.Equal(2048u, MemoryMarshal.Read<uint>(page[3084..]));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(0)]
    [InlineData(-4)]
    public void ASizeThatIsNotAPowerOfTwoIsRefused(int size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = new ByteRing(Page, 0, size, ReqCons, ReqProd); });

    [Fact]
    public void AMisalignedIndexIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = new ByteRing(Page, 0, 1024, ReqCons + 1, ReqProd); });
}
