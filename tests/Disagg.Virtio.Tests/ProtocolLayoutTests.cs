using System.Runtime.InteropServices;
using Disagg.Virtio.Blk;
using Disagg.Virtio.Net;
using Disagg.Virtio.Queue;
using Disagg.Virtio.State;
using Disagg.Virtio.Transport;

namespace Disagg.Virtio.Tests;

/// <summary>Every wire layout pinned to the virtio 1.x spec's offsets.</summary>
public sealed class ProtocolLayoutTests
{
    private static int Off<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    [Fact]
    public void VirtqDescIs16BytesAddrLenFlagsNext()
    {
        Assert.Equal(16, Marshal.SizeOf<VirtqDesc>());
        Assert.Equal(0, Off<VirtqDesc>(nameof(VirtqDesc.Addr)));
        Assert.Equal(8, Off<VirtqDesc>(nameof(VirtqDesc.Len)));
        Assert.Equal(12, Off<VirtqDesc>(nameof(VirtqDesc.Flags)));
        Assert.Equal(14, Off<VirtqDesc>(nameof(VirtqDesc.Next)));
        Assert.Equal((1, 2, 4), (VirtqDesc.FlagNext, VirtqDesc.FlagWrite, VirtqDesc.FlagIndirect));
    }

    [Fact]
    public void AvailAndUsedRingsHaveSpecOffsetsForA256EntryQueue()
    {
        Assert.Equal(4, Marshal.SizeOf<VirtqRingHeader>());
        Assert.Equal(0, Off<VirtqRingHeader>(nameof(VirtqRingHeader.Flags)));
        Assert.Equal(2, Off<VirtqRingHeader>(nameof(VirtqRingHeader.Idx)));
        Assert.Equal(8, Marshal.SizeOf<VirtqUsedElem>());
        Assert.Equal(0, Off<VirtqUsedElem>(nameof(VirtqUsedElem.Id)));
        Assert.Equal(4, Off<VirtqUsedElem>(nameof(VirtqUsedElem.Len)));
        Assert.Equal(4UL + (2 * 7), VirtqLayout.AvailEntry(7));
        Assert.Equal(4UL + 512, VirtqLayout.UsedEvent(256));
        Assert.Equal(4UL + (8 * 7), VirtqLayout.UsedEntry(7));
        Assert.Equal(4UL + 2048, VirtqLayout.AvailEvent(256));
        Assert.Equal(4096UL, VirtqLayout.DescTableBytes(256));
        Assert.Equal(518UL, VirtqLayout.AvailBytes(256));
        Assert.Equal(2054UL, VirtqLayout.UsedBytes(256));
    }

    [Fact]
    public void VringNeedEventMatchesTheSpecFormula()
    {
        Assert.True(VirtqLayout.NeedEvent(eventIdx: 5, next: 6, old: 5));
        Assert.False(VirtqLayout.NeedEvent(eventIdx: 9, next: 6, old: 5));
        Assert.True(VirtqLayout.NeedEvent(eventIdx: 65535, next: 1, old: 65534)); // across the wrap
        Assert.False(VirtqLayout.NeedEvent(eventIdx: 3, next: 3, old: 3));
    }

    [Fact]
    public void VirtioBlkRequestHeaderIsTypeReservedSector()
    {
        Assert.Equal(16, Marshal.SizeOf<VirtioBlkReqHeader>());
        Assert.Equal(0, Off<VirtioBlkReqHeader>(nameof(VirtioBlkReqHeader.Type)));
        Assert.Equal(4, Off<VirtioBlkReqHeader>(nameof(VirtioBlkReqHeader.Reserved)));
        Assert.Equal(8, Off<VirtioBlkReqHeader>(nameof(VirtioBlkReqHeader.Sector)));
        Assert.Equal((0u, 1u, 4u, 8u), (VirtioBlk.TypeIn, VirtioBlk.TypeOut, VirtioBlk.TypeFlush, VirtioBlk.TypeGetId));
        Assert.Equal((0, 8, 12, 20), (VirtioBlk.ConfigCapacity, VirtioBlk.ConfigSizeMax, VirtioBlk.ConfigSegMax, VirtioBlk.ConfigBlkSize));
    }

    [Fact]
    public void VirtioNetHeaderIs12BytesWithNumBuffers()
    {
        Assert.Equal(12, Marshal.SizeOf<VirtioNetHdr>());
        Assert.Equal(0, Off<VirtioNetHdr>(nameof(VirtioNetHdr.Flags)));
        Assert.Equal(1, Off<VirtioNetHdr>(nameof(VirtioNetHdr.GsoType)));
        Assert.Equal(2, Off<VirtioNetHdr>(nameof(VirtioNetHdr.HdrLen)));
        Assert.Equal(4, Off<VirtioNetHdr>(nameof(VirtioNetHdr.GsoSize)));
        Assert.Equal(6, Off<VirtioNetHdr>(nameof(VirtioNetHdr.CsumStart)));
        Assert.Equal(8, Off<VirtioNetHdr>(nameof(VirtioNetHdr.CsumOffset)));
        Assert.Equal(10, Off<VirtioNetHdr>(nameof(VirtioNetHdr.NumBuffers)));
        Assert.Equal((0, 6), (VirtioNet.ConfigMac, VirtioNet.ConfigStatus));
    }

    [Fact]
    public void MmioRegisterOffsetsAreTheVersion2Layout()
    {
        uint[] expected = [0x000, 0x004, 0x008, 0x00c, 0x010, 0x014, 0x020, 0x024, 0x030, 0x034, 0x038, 0x044, 0x050, 0x060, 0x064, 0x070, 0x080, 0x084, 0x090, 0x094, 0x0a0, 0x0a4, 0x0fc, 0x100];
        uint[] actual =
        [
            VirtioMmioRegister.MagicValue, VirtioMmioRegister.Version, VirtioMmioRegister.DeviceId, VirtioMmioRegister.VendorId,
            VirtioMmioRegister.DeviceFeatures, VirtioMmioRegister.DeviceFeaturesSel, VirtioMmioRegister.DriverFeatures, VirtioMmioRegister.DriverFeaturesSel,
            VirtioMmioRegister.QueueSel, VirtioMmioRegister.QueueNumMax, VirtioMmioRegister.QueueNum, VirtioMmioRegister.QueueReady,
            VirtioMmioRegister.QueueNotify, VirtioMmioRegister.InterruptStatus, VirtioMmioRegister.InterruptAck, VirtioMmioRegister.Status,
            VirtioMmioRegister.QueueDescLow, VirtioMmioRegister.QueueDescHigh, VirtioMmioRegister.QueueDriverLow, VirtioMmioRegister.QueueDriverHigh,
            VirtioMmioRegister.QueueDeviceLow, VirtioMmioRegister.QueueDeviceHigh, VirtioMmioRegister.ConfigGeneration, VirtioMmioRegister.Config,
        ];
        Assert.Equal(expected, actual);
        Assert.Equal(0x74726976u, VirtioMmioRegister.Magic);
        Assert.Equal("virt"u8.ToArray(), BitConverter.GetBytes(VirtioMmioRegister.Magic));
    }

    [Fact]
    public void StateRecordLayoutIsPinned()
    {
        var state = new VirtioDeviceState
        {
            DeviceId = 2,
            Status = 0x0f,
            DeviceFeaturesSel = 1,
            DriverFeaturesSel = 0,
            DriverFeatures = 0x1_3000_0264,
            QueueSel = 0,
            InterruptStatus = 1,
            ConfigGeneration = 3,
            Queues = [new VirtqueueState(256, true, 0x8000_1000, 0x8000_2000, 0x8000_3000, 7, 7)],
        };
        var bytes = VirtioStateCodec.Encode(state);
        Assert.Equal(48 + 32 + 4, bytes.Length);
        Assert.Equal("vsta"u8.ToArray(), bytes[..4]);
        Assert.Equal(1, BitConverter.ToUInt16(bytes, 4));
        Assert.Equal(1, BitConverter.ToUInt16(bytes, 6));
        Assert.Equal(2u, BitConverter.ToUInt32(bytes, 8));
        Assert.Equal(0x0fu, BitConverter.ToUInt32(bytes, 12));
        Assert.Equal(0x1_3000_0264UL, BitConverter.ToUInt64(bytes, 24));
        Assert.Equal(3u, BitConverter.ToUInt32(bytes, 40));
        Assert.Equal(256, BitConverter.ToUInt16(bytes, 48));
        Assert.Equal(1, bytes[50]);
        Assert.Equal(7, BitConverter.ToUInt16(bytes, 52));
        Assert.Equal(0x8000_1000UL, BitConverter.ToUInt64(bytes, 56));
        Assert.Equal(0x8000_3000UL, BitConverter.ToUInt64(bytes, 72));
        var back = VirtioStateCodec.Decode("t", bytes);
        Assert.Equal(state.Queues, back.Queues);
        Assert.Equal(state with { Queues = back.Queues }, back);
    }
}
