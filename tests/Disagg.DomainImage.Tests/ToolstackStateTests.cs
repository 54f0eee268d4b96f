namespace Disagg.DomainImage.Tests;

/// <summary>The header alone (what a toolstack reads before it restores) and the toolstack's state in it.</summary>
public sealed class ToolstackStateTests
{
    private static readonly ToolstackState Sample = new()
    {
        ConfigJson = "{\"name\":\"web\",\"memory\":16,\"maxmem\":16}",
        ConfigPath = "/srv/web.cfg",
        Uuid = "6e0c8c63-0a57-4b4e-9a55-3d3b2f8e1a10",
        DomainId = 5,
        Xenstore =
        [
            new XenstoreNode("control", "", ["n5"]),
            new XenstoreNode("data/marker", "kept", ["n5", "r0"]),
            new XenstoreNode("memory/target", "16384", ["n0", "r5"]),
        ],
    };

    [Fact]
    public void TheStateRoundTripsThroughTheHeaderAndReadHeaderStopsAfterTheFirstRecord()
    {
        using var stream = new MemoryStream();
        var w = new DomainImageWriter(stream);
        w.Write(new ImageHeader { Isa = ImageIsa.Rv32, Config = Sample.Encode() });
        w.Write(new DomainRecord { Name = "web", Vcpus = 1, MaxVcpus = 1, OnlineVcpus = 1, TargetPages = 4, MaxPages = 4, PageLimit = 4 });
        var headerEnd = stream.Position;
        stream.Write(new byte[100]); // garbage after the header: ReadHeader never looks there
        stream.Position = 0;

        var header = DomainImageReader.ReadHeader(stream);
        Assert.Equal(ImageIsa.Rv32, header.Isa);
        Assert.True(stream.Position < headerEnd);
        var back = ToolstackState.Decode(header.Config);
        Assert.Equal(Sample.ConfigJson, back.ConfigJson);
        Assert.Equal(Sample.ConfigPath, back.ConfigPath);
        Assert.Equal(Sample.Uuid, back.Uuid);
        Assert.Equal(5, back.DomainId);
        Assert.Equal(Sample.Xenstore.Count, back.Xenstore.Count);
        for (var i = 0; i < Sample.Xenstore.Count; i++)
        {
            Assert.Equal(Sample.Xenstore[i].Path, back.Xenstore[i].Path);
            Assert.Equal(Sample.Xenstore[i].Value, back.Xenstore[i].Value);
            Assert.Equal(Sample.Xenstore[i].Perms, back.Xenstore[i].Perms);
        }
    }

    [Fact]
    public void ReadHeaderRefusesWhatReadRefusesAtRecordZero()
    {
        var e = Assert.Throws<DomainImageException>(() => DomainImageReader.ReadHeader(new MemoryStream("not an image at all, just text"u8.ToArray())));
        Assert.Equal(DomainImageError.ForeignImage, e.Error);
        Assert.Equal(0, e.Index);

        var image = SampleImage.Bytes(pages: 4);
        image[20] ^= 1;
        e = Assert.Throws<DomainImageException>(() => DomainImageReader.ReadHeader(new MemoryStream(image)));
        Assert.Equal(DomainImageError.ChecksumMismatch, e.Error);
        Assert.Equal(ImageRecordKind.Header, e.Kind);

        e = Assert.Throws<DomainImageException>(() => DomainImageReader.ReadHeader(new MemoryStream(SampleImage.Bytes(pages: 4)[..10])));
        Assert.Equal(DomainImageError.Truncated, e.Error);

        e = Assert.Throws<DomainImageException>(() => DomainImageReader.ReadHeader(new MemoryStream(SampleImage.Bytes(pages: 4)), new ImageHost { WidestGuest = ImageIsa.Rv32 }));
        Assert.Equal(DomainImageError.DoesNotFitHost, e.Error);
    }

    [Fact]
    public void StateThatIsNotTheToolstacksIsRefusedNamingTheHeader()
    {
        byte[][] bad =
        [
            [],
            "name = \"sample\"\n"u8.ToArray(), // the kernel tests' plain config text
            (Sample with { Xenstore = [new XenstoreNode("/local/domain/0/x", "v", [])] }).Encode(),
            (Sample with { Xenstore = [new XenstoreNode("data/../../0", "v", [])] }).Encode(),
            [.. Sample.Encode(), 0xC0], // a byte after the state
            Sample.Encode()[..^3],
        ];
        foreach (var bytes in bad)
        {
            var e = Assert.Throws<DomainImageException>(() => ToolstackState.Decode(bytes));
            Assert.Equal(DomainImageError.Malformed, e.Error);
            Assert.Equal(ImageRecordKind.Header, e.Kind);
            Assert.Equal(0, e.Index);
        }
    }

    [Theory]
    [InlineData("n5", "n9")]
    [InlineData("r5", "r9")]
    [InlineData("b5", "b9")]
    [InlineData("n0", "n0")]
    [InlineData("r55", "r55")]
    [InlineData("r3", "r3")]
    public void PermissionsNamingTheSavedDomainNameTheNewOne(string saved, string restored) =>
        Assert.Equal(restored, ToolstackState.Remap(saved, 5, 9));
}
