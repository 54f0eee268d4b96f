namespace Disagg.DomainImage.Tests;

/// <summary>The 32-bit/64-bit rule and the domain's frame range, checked while reading.</summary>
public sealed class HostFitTests
{
    private static readonly ImageHost Rv32Host = new() { WidestGuest = ImageIsa.Rv32 };

    [Fact]
    public void AnRv32HostRefusesAnRv64Image()
    {
        var e = Assert.Throws<DomainImageException>(() => DomainImageReader.Read(new MemoryStream(SampleImage.Bytes(isa: ImageIsa.Rv64)), Rv32Host));
        Assert.Equal(DomainImageError.DoesNotFitHost, e.Error);
        Assert.Equal(ImageRecordKind.Header, e.Kind);
    }

    [Fact]
    public void AnRv32ImageFitsBothHosts()
    {
        var bytes = SampleImage.Bytes(isa: ImageIsa.Rv32);
        Assert.Equal(ImageIsa.Rv32, DomainImageReader.Read(new MemoryStream(bytes), Rv32Host).Header.Isa);
        Assert.Equal(ImageIsa.Rv32, DomainImageReader.Read(new MemoryStream(bytes)).Header.Isa);
    }

    [Fact]
    public void FramesOutsideTheDomainAreRefusedNamingTheRecord()
    {
        var host = new ImageHost { FramesFit = (d, first, count) => first >= SampleImage.RamFirstFrame + 10 && first + (ulong)count <= SampleImage.RamFirstFrame + (ulong)d.MaxPages };
        var e = Assert.Throws<DomainImageException>(() => DomainImageReader.Read(new MemoryStream(SampleImage.Bytes()), host));
        Assert.Equal(DomainImageError.DoesNotFitHost, e.Error);
        Assert.True(e.Kind is ImageRecordKind.Memory or ImageRecordKind.ZeroPages);
        Assert.Equal(4, e.Index);
    }
}
