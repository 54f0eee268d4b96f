using Disagg.Toolstack.Config;

namespace Disagg.Toolstack.Tests;

public class DeviceSpecTests
{
    private static readonly ConfigPosition At = new("g.cfg", 1, 1);

    [Theory]
    [InlineData("format=raw, vdev=xvda, access=rw, target=/d/disk.img", "/d/disk.img", DiskFormat.Raw, "xvda", false)]
    [InlineData("/d/disk.img,qcow2,xvdb,ro", "/d/disk.img", DiskFormat.Qcow2, "xvdb", true)]
    [InlineData("/d/disk.img,,xvdc", "/d/disk.img", DiskFormat.Raw, "xvdc", false)]
    [InlineData("file:/d/disk.img,xvda,w", "/d/disk.img", DiskFormat.Raw, "xvda", false)]
    [InlineData("phy:/dev/vg/x,hda,r", "/dev/vg/x", DiskFormat.Raw, "hda", true)]
    [InlineData("tap:aio:/d/x.img,xvdd,w", "/d/x.img", DiskFormat.Raw, "xvdd", false)]
    [InlineData("vdev=xvde, target=/with,comma.img", "/with,comma.img", DiskFormat.Raw, "xvde", false)]
    public void DiskSpecsInEveryXlForm(string spec, string target, DiskFormat format, string vdev, bool readOnly)
    {
        var d = DiskSpec.Parse(spec, At);
        Assert.Equal((target, format, vdev, readOnly), (d.Target, d.Format, d.Vdev, d.ReadOnly));
    }

    [Fact]
    public void CdromIsReadOnly()
    {
        var d = DiskSpec.Parse("/iso/x.iso,raw,hdc:cdrom", At);
        Assert.True(d.Cdrom);
        Assert.True(d.ReadOnly);
        Assert.Equal("hdc", d.Vdev);
    }

    [Theory]
    [InlineData("vdev=xvda", "no target")]
    [InlineData("/d/x.img", "no vdev")]
    [InlineData("/d/x.img,vmdk,xvda", "not supported")]
    [InlineData("/d/x.img,raw,nvme0", "not a virtual disk name")]
    [InlineData("/d/x.img,raw,xvda,rwx", "access 'rwx'")]
    [InlineData("/d/x.img,raw,xvda,rw,extra", "too many positional")]
    public void BadDiskSpecsSayWhy(string spec, string reason)
    {
        var e = Assert.Throws<ConfigException>(() => DiskSpec.Parse(spec, At));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10Mb/s", 1_250_000UL, 50)]
    [InlineData("10Mb/s@20ms", 1_250_000UL, 20)]
    [InlineData("1MB/s@1s", 1_000_000UL, 1000)]
    [InlineData("100KB/s@500us", 100_000UL, 0.5)]
    [InlineData("1Gb/s", 125_000_000UL, 50)]
    public void VifRatesFollowXlSyntax(string text, ulong bytesPerSecond, double intervalMs)
    {
        Assert.True(VifRate.TryParse(text, out var rate, out var error), error);
        Assert.Equal(bytesPerSecond, rate!.BytesPerSecond);
        Assert.Equal(intervalMs, rate.Interval.TotalMilliseconds, 6);
    }

    [Theory]
    [InlineData("10Mb")]
    [InlineData("fastB/s")]
    [InlineData("10Xb/s")]
    [InlineData("0MB/s")]
    [InlineData("1MB/s@soon")]
    public void BadVifRatesAreRefused(string text)
    {
        Assert.False(VifRate.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void VifDefaultsAndErrors()
    {
        var v = VifSpec.Parse("bridge=br1", At);
        Assert.Null(v.Mac);
        Assert.Equal(("br1", 1500), (v.Bridge, v.Mtu));
        Assert.Equal("xenbr0", VifSpec.Parse("ip=10.0.0.2", At).Bridge);
        Assert.Contains("six hex octets", Assert.Throws<ConfigException>(() => VifSpec.Parse("mac=00:11:22", At)).Message, StringComparison.Ordinal);
        Assert.Contains("unknown key", Assert.Throws<ConfigException>(() => VifSpec.Parse("colour=red", At)).Message, StringComparison.Ordinal);
        Assert.Contains("bridge", Assert.Throws<ConfigException>(() => VifSpec.Parse("bridge=a/b", At)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("all", 4, new[] { 0, 1, 2, 3 })]
    [InlineData("0-3,^2", 8, new[] { 0, 1, 3 })]
    [InlineData("^0", 3, new[] { 1, 2 })]
    [InlineData("all,^1", 3, new[] { 0, 2 })]
    [InlineData("5", 4, new int[0])]
    public void CpuSetsResolveAgainstTheHost(string text, int hostCpus, int[] expected)
    {
        Assert.Equal(expected, CpuSet.Parse(text, At).Resolve(hostCpus));
    }
}
