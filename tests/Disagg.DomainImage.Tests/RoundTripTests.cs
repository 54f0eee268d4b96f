namespace Disagg.DomainImage.Tests;

public sealed class RoundTripTests
{
    [Theory]
    [InlineData(ImageIsa.Rv64)]
    [InlineData(ImageIsa.Rv32)]
    public void AnImageReadsBackAsItWasWritten(ImageIsa isa)
    {
        var image = SampleImage.Read(SampleImage.Bytes(isa: isa));
        Assert.Equal(isa, image.Header.Isa);
        Assert.Equal("name = \"sample\"\nmemory = 1\n"u8.ToArray(), image.Header.Config);
        Assert.Equal("sample", image.Domain.Name);
        Assert.Equal(2, image.Vcpus.Count);
        for (var i = 0; i < 2; i++)
        {
            var expected = SampleImage.Vcpu(i, 1);
            Assert.Equal(expected.X, image.Vcpus[i].X);
            Assert.Equal(expected.F, image.Vcpus[i].F);
            Assert.Equal(expected with { X = image.Vcpus[i].X, F = image.Vcpus[i].F }, image.Vcpus[i]);
        }

        Assert.Equal(3, image.EventChannels.Ports.Count);
        Assert.Equal(new EventChannelEntry(3, 2, 0, 1, 7, -1), image.EventChannels.Ports[1]);
        Assert.Equal(4, image.GrantTable.Frames);
        Assert.Equal(0x01, image.GrantTable.Entries[0]);

        var platform = image.HvmPlatform!;
        var platformExpected = SampleImage.Platform();
        Assert.Equal((platformExpected.Sources, platformExpected.Contexts, platformExpected.DeviceModel), (platform.Sources, platform.Contexts, platform.DeviceModel));
        Assert.Equal(platformExpected.Priority, platform.Priority);
        Assert.Equal(platformExpected.SourceFlags, platform.SourceFlags);
        Assert.Equal(platformExpected.Enable, platform.Enable);
        Assert.Equal(platformExpected.Threshold, platform.Threshold);
        var model = image.DeviceModel!;
        Assert.Equal(DeviceModelRecord.QemuDm, model.Model);
        Assert.Equal(SampleImage.DeviceModel().Files.Select(f => (f.Name, Convert.ToHexString(f.Contents))), model.Files.Select(f => (f.Name, Convert.ToHexString(f.Contents))));
    }

    [Fact]
    public void MemoryComesBackPageForPageAndZeroPagesTravelAsACount()
    {
        const int pages = 150;
        var bytes = SampleImage.Bytes(pages);
        var image = SampleImage.Read(bytes);
        var rebuilt = new byte[pages * 4096];
        foreach (var run in image.Memory)
        {
            Assert.True(PageCompression.TryDecompress(run.Compressed, rebuilt.AsSpan((int)(run.FirstFrame - SampleImage.RamFirstFrame) * 4096, run.PageCount * 4096)));
        }

        Assert.Equal(SampleImage.Memory(pages, 1), rebuilt);
        Assert.Equal(pages / 3, image.ZeroPages.Sum(z => z.Count));
        Assert.Equal(pages - (pages / 3), image.Memory.Sum(m => m.PageCount));

        // Half of every non-zero page is zeros: LZ4 must have found them.
        Assert.True(bytes.Length < pages * 4096 * 0.6, $"{bytes.Length} bytes for {pages} pages");
    }

    [Fact]
    public void RewritingAReadImageKeepsEveryRecord()
    {
        // Memory runs and zero runs come back grouped by kind, so the bytes may be ordered differently.
        var bytes = SampleImage.Bytes();
        var image = SampleImage.Read(bytes);
        using var again = new MemoryStream();
        DomainImageWriter.Write(again, image);
        Assert.Equal(bytes.Length, again.Length);
        var reread = SampleImage.Read(again.ToArray());
        Assert.Equal(image.Memory.Select(m => (m.FirstFrame, m.PageCount, Convert.ToHexString(m.Compressed))), reread.Memory.Select(m => (m.FirstFrame, m.PageCount, Convert.ToHexString(m.Compressed))));
        Assert.Equal(image.ZeroPages, reread.ZeroPages);
        Assert.Equal(image.Domain, reread.Domain);
        Assert.Equal(image.EventChannels.Ports, reread.EventChannels.Ports);
    }
}
