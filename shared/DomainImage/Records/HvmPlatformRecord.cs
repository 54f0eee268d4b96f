using Disagg.DomainImage.Records;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>
/// What the kernel emulates for an HVM domain and no other record carries (docs/SAVE-RESTORE.md, "HVM"): the
/// PLIC — per source its priority, its line's level, pending and in service (claimed, not completed); per
/// context (one per hart, its S-mode) the enable words and the threshold — and whether a device model was
/// named (the restoring toolstack names the new one; its ioreq ports are not in the event channel record).
/// The timers (stimecmp) and the SBI HSM hart states travel in the vCPU records. Its presence makes the
/// restored domain an HVM one.
/// </summary>
public sealed record HvmPlatformRecord
{
    /// <summary>QEMU virt's PLIC has 95 sources (1..95); more is not a machine this format knows.</summary>
    public const int MaxSources = 1023;

    public required int Sources { get; init; }

    /// <summary>One context per hart: the domain's MaxVcpus.</summary>
    public required int Contexts { get; init; }

    /// <summary>Indexed by source, 0..Sources (0 unused).</summary>
    public required uint[] Priority { get; init; }

    /// <summary>Per source, 0..Sources, bit 0 level, bit 1 pending, bit 2 in service.</summary>
    public required byte[] SourceFlags { get; init; }

    /// <summary>Contexts × ((Sources + 32) / 32) enable words.</summary>
    public required uint[] Enable { get; init; }

    public required uint[] Threshold { get; init; }

    public bool DeviceModel { get; init; }

    public static int EnableWords(int sources) => (sources + 1 + 31) / 32;

    internal void Write(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(7);
        w.Write(Sources);
        w.Write(Contexts);
        WriteWords(ref w, Priority);
        w.Write(SourceFlags);
        WriteWords(ref w, Enable);
        WriteWords(ref w, Threshold);
        w.Write(DeviceModel);
    }

    internal static HvmPlatformRecord Read(ref MessagePackReader r, int maxVcpus)
    {
        RecordFields.ExpectArray(ref r, 7, "hvm platform");
        var sources = RecordFields.ReadInt(ref r, "PLIC sources", 1, MaxSources);
        var contexts = RecordFields.ReadInt(ref r, "PLIC contexts", 1, DomainRecord.MaxVcpuLimit);
        if (contexts != maxVcpus)
        {
            throw new MessagePackSerializationException($"{contexts} PLIC contexts for {maxVcpus} vCPUs");
        }

        var priority = ReadWords(ref r, "PLIC priorities", sources + 1, 7);
        var flags = RecordFields.ReadBytes(ref r, "PLIC source flags", sources + 1);
        if (flags.Length != sources + 1 || flags.AsSpan().IndexOfAnyInRange((byte)8, (byte)255) >= 0 || (flags[0] & 7) != 0)
        {
            throw new MessagePackSerializationException($"PLIC source flags: {flags.Length} bytes for {sources} sources, or a flag outside level/pending/in-service");
        }

        var enable = ReadWords(ref r, "PLIC enables", contexts * EnableWords(sources), uint.MaxValue);
        var threshold = ReadWords(ref r, "PLIC thresholds", contexts, 7);
        var deviceModel = r.ReadBoolean();
        return new HvmPlatformRecord { Sources = sources, Contexts = contexts, Priority = priority, SourceFlags = flags, Enable = enable, Threshold = threshold, DeviceModel = deviceModel };
    }

    private static void WriteWords(ref MessagePackWriter w, uint[] words)
    {
        w.WriteArrayHeader(words.Length);
        foreach (var v in words)
        {
            w.Write(v);
        }
    }

    private static uint[] ReadWords(ref MessagePackReader r, string field, int count, uint max)
    {
        var n = RecordFields.ReadCount(ref r, field, count);
        if (n != count)
        {
            throw new MessagePackSerializationException($"{field}: {n} words, not {count}");
        }

        var words = new uint[n];
        for (var i = 0; i < n; i++)
        {
            words[i] = r.ReadUInt32();
            if (words[i] > max)
            {
                throw new MessagePackSerializationException($"{field}[{i}] is {words[i]}, over {max}");
            }
        }

        return words;
    }
}
