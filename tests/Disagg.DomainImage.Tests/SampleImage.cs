using System.Buffers.Binary;

namespace Disagg.DomainImage.Tests;

/// <summary>A small image with every record kind, its memory from a seed, and where each record starts in its bytes.</summary>
internal static class SampleImage
{
    public const ulong RamFirstFrame = 0x80000;

    /// <summary>Guest memory of <paramref name="pages"/> pages: every third page zero, the rest seeded noise (compressible halves).</summary>
    public static byte[] Memory(int pages, int seed)
    {
        var random = new Random(seed);
        var memory = new byte[pages * 4096];
        for (var p = 0; p < pages; p++)
        {
            if (p % 3 != 1)
            {
                random.NextBytes(memory.AsSpan((p * 4096) + 2048, 2048));
                memory[p * 4096] = (byte)(p + 1);
            }
        }

        return memory;
    }

    public static byte[] Bytes(int pages = 150, int seed = 1, ImageIsa isa = ImageIsa.Rv64)
    {
        var memory = Memory(pages, seed);
        using var stream = new MemoryStream();
        var writer = new DomainImageWriter(stream);
        writer.Write(new ImageHeader { Isa = isa, Config = "name = \"sample\"\nmemory = 1\n"u8.ToArray() });
        writer.Write(new DomainRecord { Name = "sample", Vcpus = 2, MaxVcpus = 2, OnlineVcpus = 2, TargetPages = pages, MaxPages = pages, PageLimit = pages });
        for (var i = 0; i < 2; i++)
        {
            writer.Write(Vcpu(i, seed));
        }

        writer.WritePages(RamFirstFrame, pages, (frame, page) => memory.AsSpan((int)(frame - RamFirstFrame) * 4096, 4096).CopyTo(page));
        writer.Write(new EventChannelsRecord([new EventChannelEntry(1, 1, 0, 0, 0, -1), new EventChannelEntry(3, 2, 0, 1, 7, -1), new EventChannelEntry(4, 3, 1, 0, 0, 0)]));
        var grants = new byte[4 * 4096];
        BinaryPrimitives.WriteUInt64LittleEndian(grants, 0x0000_1234_0000_0001);
        writer.Write(new GrantTableRecord(4, grants));
        writer.Write(Platform());
        writer.Write(DeviceModel());
        writer.Finish();
        return stream.ToArray();
    }

    /// <summary>A PLIC of QEMU virt's 95 sources, two contexts: source 10 asserted and in service, source 1 pending.</summary>
    public static HvmPlatformRecord Platform()
    {
        var priority = new uint[96];
        priority[1] = 1;
        priority[10] = 7;
        var flags = new byte[96];
        flags[1] = 2;
        flags[10] = 1 | 4;
        return new HvmPlatformRecord
        {
            Sources = 95, Contexts = 2, Priority = priority, SourceFlags = flags, Enable = [(1u << 10) | 2, 0, 0, 1u << 10, 0, 0], Threshold = [0, 3], DeviceModel = true,
        };
    }

    public static DeviceModelRecord DeviceModel() =>
        new(DeviceModelRecord.QemuDm, [new DeviceModelFile("uart", [1, 2, 3, 4]), new DeviceModelFile("slot7.virtio", [.. Enumerable.Range(0, 300).Select(i => (byte)i)])]);

    public static VcpuRecord Vcpu(int index, int seed)
    {
        var random = new Random(seed + index);
        var x = new ulong[32];
        var f = new ulong[32];
        for (var i = 1; i < 32; i++)
        {
            x[i] = (ulong)random.NextInt64();
            f[i] = (ulong)random.NextInt64();
        }

        return new VcpuRecord
        {
            Index = index, Started = index == 0, X = x, F = f, Pc = 0x8000_1234, Privilege = 1, Satp = (8UL << 60) | 0x80123,
            Stvec = 0x8000_0100, Sepc = 0x8000_2000, Scause = 9, Stval = 0xdead, Sscratch = 0x8fff_0000, Sstatus = 0x2, Sie = 0x222,
            Sip = 2, Fcsr = 0x41, InstructionsRetired = 123_456_789, Time = 99_000, TimerDeadline = 100_000,
        };
    }

    /// <summary>Where each record's frame starts, and the image's length last.</summary>
    public static List<int> RecordStarts(byte[] image)
    {
        var starts = new List<int>();
        var at = 0;
        while (at < image.Length)
        {
            starts.Add(at);
            at += 16 + (int)BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(at));
        }

        starts.Add(image.Length);
        return starts;
    }

    public static ImageRecordKind KindAt(byte[] image, int start) => (ImageRecordKind)BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(start + 4));

    public static DomainImage Read(byte[] bytes) => DomainImageReader.Read(new MemoryStream(bytes));
}
