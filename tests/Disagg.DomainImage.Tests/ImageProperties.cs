using FsCheck.Xunit;

namespace Disagg.DomainImage.Tests;

/// <summary>Properties over arbitrary inputs: any single bit flipped anywhere is refused; any register file round-trips.</summary>
public sealed class ImageProperties
{
    private static readonly byte[] Sample = SampleImage.Bytes(pages: 20);

    [Property(MaxTest = 300)]
    public bool AnySingleBitFlipIsRefused(uint position, byte bit)
    {
        var bad = (byte[])Sample.Clone();
        bad[(int)(position % (uint)bad.Length)] ^= (byte)(1 << (bit % 8));
        try
        {
            SampleImage.Read(bad);
            return false;
        }
        catch (DomainImageException)
        {
            return true;
        }
    }

    [Property(MaxTest = 100)]
    public bool AnyRegisterFileRoundTrips(ulong[] values, ulong pc, ulong satp, uint fcsr)
    {
        var x = new ulong[32];
        var f = new ulong[32];
        for (var i = 0; i < (values?.Length ?? 0) && i < 64; i++)
        {
            (i < 32 ? x : f)[i % 32] = values![i];
        }

        var vcpu = SampleImage.Vcpu(0, 1) with { X = x, F = f, Pc = pc, Satp = satp, Fcsr = fcsr };
        using var stream = new MemoryStream();
        var w = new DomainImageWriter(stream);
        w.Write(new ImageHeader { Isa = ImageIsa.Rv32 });
        w.Write(new DomainRecord { Name = "p", Vcpus = 1, MaxVcpus = 1, OnlineVcpus = 1, TargetPages = 1, MaxPages = 1, PageLimit = 1 });
        w.Write(vcpu);
        w.Write(new EventChannelsRecord([]));
        w.Write(new GrantTableRecord(1, new byte[4096]));
        w.Finish();
        var back = SampleImage.Read(stream.ToArray()).Vcpus[0];
        return back.X.SequenceEqual(x) && back.F.SequenceEqual(f) && back with { X = x, F = f } == vcpu;
    }
}
