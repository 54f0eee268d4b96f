using System.Buffers.Binary;
using Disagg.Kernel.Core.Domains;

namespace Disagg.Kernel.Loader;

/// <summary>
/// A RISC-V ELF executable reduced to what a boot loader needs: the class (RV32/RV64), the entry point
/// and the PT_LOAD segments. Parsing never throws on bad input: <see cref="TryParse"/> returns a reason.
/// </summary>
internal sealed class ElfImage
{
    private const ushort MachineRiscV = 243;
    private const uint PtLoad = 1;

    private ElfImage(bool is64, ulong entry, List<ElfSegment> segments)
    {
        Is64 = is64;
        Entry = entry;
        Segments = segments;
    }

    public bool Is64 { get; }

    public ulong Entry { get; }

    public IReadOnlyList<ElfSegment> Segments { get; }

    /// <summary>The segments with their bytes, as a domain loads them (<paramref name="file"/> is the file this image was parsed from).</summary>
    public List<ImageSegment> LoadableSegments(ReadOnlySpan<byte> file)
    {
        var segments = new List<ImageSegment>(Segments.Count);
        foreach (var s in Segments)
        {
            segments.Add(new ImageSegment(s.PhysicalAddress, file.Slice((int)s.Offset, (int)s.FileSize).ToArray(), s.MemorySize));
        }

        return segments;
    }

    public static bool TryParse(ReadOnlySpan<byte> file, out ElfImage? image, out string error)
    {
        image = null;
        if (file.Length < 4 || file[0] != 0x7F || file[1] != (byte)'E' || file[2] != (byte)'L' || file[3] != (byte)'F')
        {
            error = "not an ELF file (bad magic)";
            return false;
        }

        if (file.Length < 52)
        {
            error = "truncated ELF header";
            return false;
        }

        var is64 = file[4] == 2;
        if (file[4] is not (1 or 2))
        {
            error = $"unknown ELF class {file[4]}";
            return false;
        }

        if (file[5] != 1)
        {
            error = "not a little-endian ELF";
            return false;
        }

        if (is64 && file.Length < 64)
        {
            error = "truncated ELF header";
            return false;
        }

        var machine = BinaryPrimitives.ReadUInt16LittleEndian(file[18..]);
        if (machine != MachineRiscV)
        {
            error = $"not a RISC-V ELF (e_machine {machine})";
            return false;
        }

        ulong entry, phoff;
        int phentsize, phnum;
        if (is64)
        {
            entry = BinaryPrimitives.ReadUInt64LittleEndian(file[24..]);
            phoff = BinaryPrimitives.ReadUInt64LittleEndian(file[32..]);
            phentsize = BinaryPrimitives.ReadUInt16LittleEndian(file[54..]);
            phnum = BinaryPrimitives.ReadUInt16LittleEndian(file[56..]);
        }
        else
        {
            entry = BinaryPrimitives.ReadUInt32LittleEndian(file[24..]);
            phoff = BinaryPrimitives.ReadUInt32LittleEndian(file[28..]);
            phentsize = BinaryPrimitives.ReadUInt16LittleEndian(file[42..]);
            phnum = BinaryPrimitives.ReadUInt16LittleEndian(file[44..]);
        }

        var minimum = is64 ? 56 : 32;
        if (phnum == 0 || phentsize < minimum || phoff > (ulong)file.Length || (ulong)phnum * (ulong)phentsize > (ulong)file.Length - phoff)
        {
            error = "program header table missing or outside the file";
            return false;
        }

        var segments = new List<ElfSegment>();
        for (var i = 0; i < phnum; i++)
        {
            var ph = file.Slice((int)phoff + (i * phentsize), phentsize);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(ph);
            if (type != PtLoad)
            {
                continue;
            }

            ElfSegment s = is64
                ? new(BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]), BinaryPrimitives.ReadUInt64LittleEndian(ph[24..]),
                      BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]), BinaryPrimitives.ReadUInt64LittleEndian(ph[40..]))
                : new(BinaryPrimitives.ReadUInt32LittleEndian(ph[4..]), BinaryPrimitives.ReadUInt32LittleEndian(ph[12..]),
                      BinaryPrimitives.ReadUInt32LittleEndian(ph[16..]), BinaryPrimitives.ReadUInt32LittleEndian(ph[20..]));
            if (s.FileSize > s.MemorySize)
            {
                error = $"segment {i}: file size 0x{s.FileSize:x} exceeds memory size 0x{s.MemorySize:x}";
                return false;
            }

            if (s.Offset > (ulong)file.Length || s.FileSize > (ulong)file.Length - s.Offset)
            {
                error = $"segment {i}: data at 0x{s.Offset:x}+0x{s.FileSize:x} lies outside the file";
                return false;
            }

            if (s.MemorySize > 0)
            {
                segments.Add(s);
            }
        }

        if (segments.Count == 0)
        {
            error = "no loadable segment";
            return false;
        }

        image = new ElfImage(is64, entry, segments);
        error = "";
        return true;
    }
}
