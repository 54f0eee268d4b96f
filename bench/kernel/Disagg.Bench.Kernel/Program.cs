using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Bench;
using Disagg.Kernel.Core;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Ipc.Grants;

// bench/kernel: domain creation to first guest instruction at 0..1000 existing domains, and grant
// copy throughput next to a plain memcpy of the same bytes.
var quick = args.Contains("--quick");
DomainCreation(quick);
GrantCopyThroughput(quick);
return 0;

static void Report(string figure, double value, string unit, double? ratio = null, string? versus = null) =>
    new BenchReport("kernel", "0.###").Figure(figure, value, unit, ratio, versus);

// A guest whose first instruction stores 1 to its data page, then sits in WFI: "first instruction"
// is the moment that store is visible.
static IReadOnlyList<ImageSegment> FirstStoreGuest()
{
    uint[] code =
    [
        0x00001297, // auipc t0, 1        -> t0 = code + 0x1000 (the data page)
        0x00100313, // addi  t1, zero, 1
        0x0062B023, // sd    t1, 0(t0)
        0x10500073, // wfi
        0xFFDFF06F, // j     -4
    ];
    var bytes = new byte[code.Length * 4];
    for (var i = 0; i < code.Length; i++)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), code[i]);
    }

    return [new ImageSegment(PvLayout.RamBase, bytes, 0x1000), new ImageSegment(PvLayout.RamBase + 0x1000, new byte[8], 0x1000)];
}

static unsafe void DomainCreation(bool quick)
{
    using var hv = new Hypervisor(Environment.ProcessorCount, 8L << 30);
    var image = FirstStoreGuest();
    var created = 0;
    foreach (var existing in new[] { 0, 10, 100, 1000 })
    {
        for (; created < existing; created++)
        {
            var idle = hv.CreateDomain(Spec($"idle{created}"));
            idle.PrepareBoot(image, PvLayout.RamBase, "");
            idle.Unpause();
        }

        var samples = new List<double>();
        for (var i = 0; i < (quick ? 10 : 50); i++)
        {
            var sw = Stopwatch.StartNew();
            var d = hv.CreateDomain(Spec($"probe{existing}-{i}"));
            d.PrepareBoot(image, PvLayout.RamBase, "");
            var flag = (long*)d.Memory.Frame((PvLayout.RamBase + 0x1000) / 4096, false);
            d.Unpause();
            while (Volatile.Read(ref *flag) == 0)
            {
                Thread.SpinWait(20);
            }

            samples.Add(sw.Elapsed.TotalMicroseconds);
            hv.DestroyDomain(d);
        }

        samples.Sort();
        Report($"create-to-first-instruction-at-{existing}", samples[samples.Count / 2], "us");
    }
}

static DomainSpec Spec(string name) => new() { Name = name, MemoryPages = 64, MaxMemoryPages = 64 };

static unsafe void GrantCopyThroughput(bool quick)
{
    const int Frames = 256; // 1 MiB each side
    var guestRam = (byte*)NativeMemory.AlignedAlloc(Frames * 4096, 4096);
    var backendRam = (byte*)NativeMemory.AlignedAlloc(Frames * 4096, 4096);
    var table = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
    new Span<byte>(guestRam, Frames * 4096).Fill(7);
    var entries = (GrantEntryV1*)table;
    for (var i = 0; i < Frames; i++)
    {
        entries[i] = new GrantEntryV1 { DomId = 1, Frame = (uint)(0x1000 + i), Flags = (ushort)GrantFlags.PermitAccess };
    }

    var guest = new GrantDomain(5, new GrantTable(5, [table]), new Frames(0x1000, guestRam, Frames));
    var backend = new GrantDomain(1, null, new Frames(0, backendRam, Frames));
    var copier = new GrantCopier(id => id == 5 ? guest : null);
    var ops = new GrantCopy[64];
    var rounds = quick ? 2_000 : 20_000;
    long bytes = 0;
    var sw = Stopwatch.StartNew();
    for (var r = 0; r < rounds; r++)
    {
        for (var i = 0; i < ops.Length; i++)
        {
            var f = (uint)((r * ops.Length) + i) % Frames;
            ops[i] = new GrantCopy
            {
                Source = new GrantCopyPtr { RefOrFrame = f, DomId = 5 },
                Dest = new GrantCopyPtr { RefOrFrame = f, DomId = DomainIds.Self },
                Len = 4096,
                Flags = GrantCopy.SourceGref,
            };
        }

        copier.CopyBatch(backend, ops);
        bytes += ops.Length * 4096L;
    }

    var grantGbs = bytes / sw.Elapsed.TotalSeconds / 1e9;
    sw.Restart();
    long plain = 0;
    for (var r = 0; r < rounds; r++)
    {
        for (var i = 0; i < ops.Length; i++)
        {
            var f = ((r * ops.Length) + i) % Frames;
            Buffer.MemoryCopy(guestRam + (f * 4096), backendRam + (f * 4096), 4096, 4096);
        }

        plain += ops.Length * 4096L;
    }

    var memcpyGbs = plain / sw.Elapsed.TotalSeconds / 1e9;
    Report("memcpy-4k", memcpyGbs, "GB/s");
    Report("grant-copy-4k", grantGbs, "GB/s", grantGbs / memcpyGbs, "memcpy-4k");
}

/// <summary>Native frames numbered from a base, as grant copy reaches a domain's memory.</summary>
internal sealed unsafe class Frames(ulong first, byte* memory, int count) : IGuestFrames
{
    public byte* TryGetFrame(ulong frame, bool write) => frame - first < (ulong)count ? memory + ((long)(frame - first) * 4096) : null;
}
