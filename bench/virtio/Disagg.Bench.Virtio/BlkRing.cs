using System.Buffers.Binary;
using Disagg.Virtio.Memory;
using Disagg.Virtio.Queue;
using Disagg.Virtio.Transport;
using R = Disagg.Virtio.Transport.VirtioMmioRegister;

namespace Disagg.Bench.Virtio;

/// <summary>
/// The guest's side of one virtio-blk queue, kept as cheap as a guest driver's: fixed three-descriptor
/// chains (header, 4 KiB data, status) set up once; a batch rewrites only the sectors and avail entries.
/// </summary>
internal sealed class BlkRing
{
    public const int Batch = 64;
    private const ushort Size = 256;
    private const ulong Ram = 0x8000_0000;
    private const ulong Desc = Ram + 0x1000;
    private const ulong Avail = Desc + (16 * Size);
    private const ulong Used = Ram + 0x4000;
    private const ulong Headers = Ram + 0x6000;
    private const ulong Statuses = Ram + 0x7000;
    private const ulong Data = Ram + 0x10000;

    private readonly RamGuestMemory _memory;
    private readonly VirtioMmioTransport _transport;
    private ushort _availIdx;

    public BlkRing(RamGuestMemory memory, VirtioMmioTransport transport)
    {
        _memory = memory;
        _transport = transport;
        W(R.Status, 0);
        W(R.Status, 3);
        W(R.DriverFeaturesSel, 1);
        W(R.DriverFeatures, (uint)(VirtioFeature.Version1 >> 32));
        W(R.DriverFeaturesSel, 0);
        W(R.DriverFeatures, (uint)(VirtioFeature.EventIdx | Disagg.Virtio.Blk.VirtioBlk.FeatureFlush));
        W(R.Status, 11);
        W(R.QueueSel, 0);
        W(R.QueueNum, Size);
        W(R.QueueDescLow, (uint)Desc);
        W(R.QueueDriverLow, (uint)Avail);
        W(R.QueueDeviceLow, (uint)Used);
        W(R.QueueReady, 1);
        W(R.Status, 15);
        var ram = memory.Bytes;
        for (var i = 0; i < Batch; i++)
        {
            Descriptor(ram, (3 * i) + 0, Headers + (ulong)(16 * i), 16, VirtqDesc.FlagNext, (3 * i) + 1);
            Descriptor(ram, (3 * i) + 1, Data + (ulong)(4096 * i), 4096, VirtqDesc.FlagNext | VirtqDesc.FlagWrite, (3 * i) + 2);
            Descriptor(ram, (3 * i) + 2, Statuses + (ulong)i, 1, VirtqDesc.FlagWrite, 0);
        }
    }

    /// <summary>One batch of 4 KiB reads at random sectors below <paramref name="sectors"/>; false if any failed.</summary>
    public bool ReadBatch(Random random, long sectors)
    {
        var ram = _memory.Bytes;
        for (var i = 0; i < Batch; i++)
        {
            var sector = random.NextInt64(sectors / 8) * 8;
            BinaryPrimitives.WriteUInt64LittleEndian(ram[(int)(Headers - Ram + (ulong)(16 * i) + 8)..], (ulong)sector);
            BinaryPrimitives.WriteUInt16LittleEndian(ram[(int)(Avail - Ram + 4 + (ulong)(2 * (_availIdx & (Size - 1))))..], (ushort)(3 * i));
            _availIdx++;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(ram[(int)(Avail - Ram + 2)..], _availIdx);
        _transport.TryWrite(R.QueueNotify, 4, 0);
        _transport.TryWrite(R.InterruptAck, 4, _transport.InterruptStatus);
        var ok = BinaryPrimitives.ReadUInt16LittleEndian(ram[(int)(Used - Ram + 2)..]) == _availIdx;
        for (var i = 0; i < Batch && ok; i++)
        {
            ok = ram[(int)(Statuses - Ram) + i] == 0;
        }

        return ok;
    }

    private static void Descriptor(Span<byte> ram, int index, ulong address, uint length, ushort flags, int next)
    {
        var d = ram[(int)(Desc - Ram + (ulong)(16 * index))..];
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], (ushort)next);
    }

    private void W(uint offset, uint value) => _transport.TryWrite(offset, 4, value);
}
