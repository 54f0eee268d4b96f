using System.Buffers.Binary;

namespace Disagg.TestSupport;

/// <summary>One loadable segment of a test ELF: its address, file bytes and size in memory (the rest zero-filled).</summary>
public readonly record struct ElfSegment(ulong Address, byte[] Data, ulong MemorySize);

/// <summary>Writes a minimal RISC-V ELF executable (one PT_LOAD per segment) from test guest code.</summary>
public static class ElfWriter
{
    public static byte[] Build(IReadOnlyList<ElfSegment> segments, ulong entry, bool is64)
    {
        var ehsize = is64 ? 64 : 52;
        var phentsize = is64 ? 56 : 32;
        var dataStart = ehsize + (phentsize * segments.Count);
        var file = new List<byte>(new byte[dataStart]);
        var offsets = new List<int>();
        foreach (var s in segments)
        {
            offsets.Add(file.Count);
            file.AddRange(s.Data);
        }

        var b = file.ToArray();
        var h = b.AsSpan();
        h[0] = 0x7F;
        h[1] = (byte)'E';
        h[2] = (byte)'L';
        h[3] = (byte)'F';
        h[4] = (byte)(is64 ? 2 : 1);
        h[5] = 1; // little-endian
        h[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 2); // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], 243); // EM_RISCV
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        if (is64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(h[24..], entry);
            BinaryPrimitives.WriteUInt64LittleEndian(h[32..], (ulong)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[52..], (ushort)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[54..], (ushort)phentsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[56..], (ushort)segments.Count);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(h[24..], (uint)entry);
            BinaryPrimitives.WriteUInt32LittleEndian(h[28..], (uint)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[40..], (ushort)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[42..], (ushort)phentsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[44..], (ushort)segments.Count);
        }

        for (var i = 0; i < segments.Count; i++)
        {
            var p = h[(ehsize + (i * phentsize))..];
            var s = segments[i];
            BinaryPrimitives.WriteUInt32LittleEndian(p, 1); // PT_LOAD
            if (is64)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 7);
                BinaryPrimitives.WriteUInt64LittleEndian(p[8..], (ulong)offsets[i]);
                BinaryPrimitives.WriteUInt64LittleEndian(p[16..], s.Address);
                BinaryPrimitives.WriteUInt64LittleEndian(p[24..], s.Address);
                BinaryPrimitives.WriteUInt64LittleEndian(p[32..], (ulong)s.Data.Length);
                BinaryPrimitives.WriteUInt64LittleEndian(p[40..], s.MemorySize);
                BinaryPrimitives.WriteUInt64LittleEndian(p[48..], 4096);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(p[4..], (uint)offsets[i]);
                BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)s.Address);
                BinaryPrimitives.WriteUInt32LittleEndian(p[12..], (uint)s.Address);
                BinaryPrimitives.WriteUInt32LittleEndian(p[16..], (uint)s.Data.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(p[20..], (uint)s.MemorySize);
                BinaryPrimitives.WriteUInt32LittleEndian(p[24..], 7);
                BinaryPrimitives.WriteUInt32LittleEndian(p[28..], 4096);
            }
        }

        return b;
    }
}
