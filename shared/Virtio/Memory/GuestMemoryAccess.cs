using System.Buffers.Binary;

namespace Disagg.Virtio.Memory;

/// <summary>Little-endian scalar reads and writes over <see cref="IGuestMemory"/> (virtio 1.x fields are little-endian, §2.4).</summary>
public static class GuestMemoryAccess
{
    public static bool TryReadU16(this IGuestMemory memory, ulong address, out ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        if (!memory.TryRead(address, b))
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt16LittleEndian(b);
        return true;
    }

    public static bool TryWriteU16(this IGuestMemory memory, ulong address, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        return memory.TryWrite(address, b);
    }

    public static bool TryWriteU32(this IGuestMemory memory, ulong address, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return memory.TryWrite(address, b);
    }

    /// <summary>address + length without wrapping past 2^64; false when it would.</summary>
    public static bool TryEnd(ulong address, ulong length, out ulong end)
    {
        end = address + length;
        return end >= address;
    }
}
