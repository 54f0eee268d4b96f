using System.Buffers.Binary;
using System.IO.Hashing;

namespace Disagg.Virtio.State;

/// <summary>
/// The byte form of <see cref="VirtioDeviceState"/>: a fixed little-endian layout, small enough to rewrite
/// on every register write (a device with two queues is 116 bytes), then a CRC32 of everything before it.
/// <code>
///  0 u32 magic "vsta"   4 u16 format version   6 u16 queue count   8 u32 device id
/// 12 u32 status        16 u32 device features sel  20 u32 driver features sel  24 u64 driver features
/// 32 u32 queue sel     36 u32 interrupt status     40 u32 config generation    44 u32 reserved (0)
/// 48 queues, 32 bytes each: 0 u16 size, 2 u8 ready, 3 u8 reserved, 4 u16 last_avail, 6 u16 used_idx,
///                           8 u64 desc, 16 u64 avail (driver area), 24 u64 used (device area)
///  then u32 CRC32 (IEEE) of the bytes before it
/// </code>
/// </summary>
public static class VirtioStateCodec
{
    public const uint Magic = 0x61747376; // "vsta"
    public const int HeaderSize = 48;
    public const int QueueRecordSize = 32;

    /// <summary>More queues than any device of ours has: bounds what a damaged file can make us allocate.</summary>
    public const int MaxQueues = 64;

    public static int SizeOf(int queues) => HeaderSize + (queues * QueueRecordSize) + sizeof(uint);

    public static byte[] Encode(VirtioDeviceState state)
    {
        var bytes = new byte[SizeOf(state.Queues.Length)];
        Encode(state, bytes);
        return bytes;
    }

    /// <summary>Writes into <paramref name="destination"/> (at least <see cref="SizeOf"/> bytes); returns the length.</summary>
    public static int Encode(VirtioDeviceState state, Span<byte> destination)
    {
        var length = SizeOf(state.Queues.Length);
        var d = destination[..length];
        d.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(d, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(d[4..], VirtioDeviceState.FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(d[6..], (ushort)state.Queues.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], state.DeviceId);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], state.Status);
        BinaryPrimitives.WriteUInt32LittleEndian(d[16..], state.DeviceFeaturesSel);
        BinaryPrimitives.WriteUInt32LittleEndian(d[20..], state.DriverFeaturesSel);
        BinaryPrimitives.WriteUInt64LittleEndian(d[24..], state.DriverFeatures);
        BinaryPrimitives.WriteUInt32LittleEndian(d[32..], state.QueueSel);
        BinaryPrimitives.WriteUInt32LittleEndian(d[36..], state.InterruptStatus);
        BinaryPrimitives.WriteUInt32LittleEndian(d[40..], state.ConfigGeneration);
        for (var i = 0; i < state.Queues.Length; i++)
        {
            var q = state.Queues[i];
            var r = d.Slice(HeaderSize + (i * QueueRecordSize), QueueRecordSize);
            BinaryPrimitives.WriteUInt16LittleEndian(r, q.Size);
            r[2] = q.Ready ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteUInt16LittleEndian(r[4..], q.LastAvail);
            BinaryPrimitives.WriteUInt16LittleEndian(r[6..], q.UsedIdx);
            BinaryPrimitives.WriteUInt64LittleEndian(r[8..], q.DescTable);
            BinaryPrimitives.WriteUInt64LittleEndian(r[16..], q.AvailRing);
            BinaryPrimitives.WriteUInt64LittleEndian(r[24..], q.UsedRing);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(d[(length - 4)..], Crc32.HashToUInt32(d[..(length - 4)]));
        return length;
    }

    /// <summary>Reads a record; anything but an intact one of this format is a <see cref="VirtioStateException"/> naming <paramref name="device"/>.</summary>
    public static VirtioDeviceState Decode(string device, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderSize + sizeof(uint))
        {
            throw new VirtioStateException(device, $"{bytes.Length} bytes is shorter than the header");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
        {
            throw new VirtioStateException(device, "not a virtio state record (magic)");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]);
        if (version != VirtioDeviceState.FormatVersion)
        {
            throw new VirtioStateException(device, $"format version {version}, this build reads {VirtioDeviceState.FormatVersion}");
        }

        int queues = BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]);
        if (queues > MaxQueues || bytes.Length != SizeOf(queues))
        {
            throw new VirtioStateException(device, $"{queues} queues in {bytes.Length} bytes");
        }

        var length = SizeOf(queues);
        if (Crc32.HashToUInt32(bytes[..(length - 4)]) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[(length - 4)..]))
        {
            throw new VirtioStateException(device, "checksum mismatch");
        }

        var status = BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        if (status > byte.MaxValue)
        {
            throw new VirtioStateException(device, $"status 0x{status:x} is not a byte");
        }

        var list = new VirtqueueState[queues];
        for (var i = 0; i < queues; i++)
        {
            var r = bytes.Slice(HeaderSize + (i * QueueRecordSize), QueueRecordSize);
            if (r[2] > 1)
            {
                throw new VirtioStateException(device, $"queue {i}: ready {r[2]}");
            }

            list[i] = new VirtqueueState(
                BinaryPrimitives.ReadUInt16LittleEndian(r),
                r[2] == 1,
                BinaryPrimitives.ReadUInt64LittleEndian(r[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(r[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(r[24..]),
                BinaryPrimitives.ReadUInt16LittleEndian(r[4..]),
                BinaryPrimitives.ReadUInt16LittleEndian(r[6..]));
        }

        return new VirtioDeviceState
        {
            DeviceId = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]),
            Status = (byte)status,
            DeviceFeaturesSel = BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]),
            DriverFeaturesSel = BinaryPrimitives.ReadUInt32LittleEndian(bytes[20..]),
            DriverFeatures = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]),
            QueueSel = BinaryPrimitives.ReadUInt32LittleEndian(bytes[32..]),
            InterruptStatus = BinaryPrimitives.ReadUInt32LittleEndian(bytes[36..]),
            ConfigGeneration = BinaryPrimitives.ReadUInt32LittleEndian(bytes[40..]),
            Queues = list,
        };
    }
}
