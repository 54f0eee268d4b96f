using System.Runtime.InteropServices;
using Disagg.Abi.Io;

namespace Disagg.Ring.Tests;

public class RingLayoutTests
{
    [Fact]
    public void SharedHeaderOffsetsAreXens()
    {
        Assert.Equal(64, Marshal.SizeOf<SharedRingHeader>());
        Assert.Equal(0, (int)Marshal.OffsetOf<SharedRingHeader>(nameof(SharedRingHeader.ReqProd)));
        Assert.Equal(4, (int)Marshal.OffsetOf<SharedRingHeader>(nameof(SharedRingHeader.ReqEvent)));
        Assert.Equal(8, (int)Marshal.OffsetOf<SharedRingHeader>(nameof(SharedRingHeader.RspProd)));
        Assert.Equal(12, (int)Marshal.OffsetOf<SharedRingHeader>(nameof(SharedRingHeader.RspEvent)));
    }

    [Fact]
    public void SlotCountsFollowXensRoundingDown()
    {
        Assert.Equal(112, RingGeometry.SlotSize<BlkifRequest, BlkifResponse>());
        Assert.Equal(32, RingGeometry.SlotCount<BlkifRequest, BlkifResponse>(0));
        Assert.Equal(256, RingGeometry.SlotCount<NetifTxRequest, NetifTxResponse>(0));
        Assert.Equal(256, RingGeometry.SlotCount<NetifRxRequest, NetifRxResponse>(0));
        Assert.Equal([32, 64, 128, 256, 512], Enumerable.Range(0, 5).Select(RingGeometry.SlotCount<BlkifRequest, BlkifResponse>));
        Assert.Equal(16, RingGeometry.SlotCount(64 + (31 * 128), 128)); // 31 slots fit: rounded down to 16
        Assert.Throws<ArgumentOutOfRangeException>(() => RingGeometry.SlotCount<BlkifRequest, BlkifResponse>(5));
        Assert.Throws<ArgumentException>(() => RingGeometry.SlotCount(100, 112));
    }
}
