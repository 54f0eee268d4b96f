using Disagg.Toolstack.Config;

namespace Disagg.Toolstack.Tests;

public class DomainConfigReaderTests
{
    private static DomainConfig Read(string text, out IReadOnlyList<string> warnings) =>
        DomainConfigReader.Read(XlConfigParser.Parse("g.cfg", text), "g.cfg", out warnings);

    private static DomainConfig Read(string text) => Read(text, out _);

    [Fact]
    public void AppliesXlDefaults()
    {
        var c = Read("name = 'g'\nkernel = '/k'\n");
        Assert.Equal(DomainType.Pv, c.Type);
        Assert.Equal(128, c.MemoryMiB);
        Assert.Equal(128, c.MaxMemMiB);
        Assert.Equal(1, c.Vcpus);
        Assert.Equal(1, c.MaxVcpus);
        Assert.Equal(256, c.Weight);
        Assert.Equal(0, c.Cap);
        Assert.Equal(LifecycleAction.Destroy, c.OnPoweroff);
        Assert.Equal(LifecycleAction.Restart, c.OnReboot);
        Assert.Equal(LifecycleAction.Destroy, c.OnCrash);
        Assert.True(c.Cpus.Single().IncludesAll);
    }

    [Fact]
    public void ReadsEverySupportedKey()
    {
        var c = Read("""
            name = "web-1"
            type = "pv"
            memory = 256
            maxmem = 512
            vcpus = 2
            maxvcpus = 4
            cpus = ["0", "1-3,^2"]
            cpu_weight = 512
            cap = 25
            kernel = "/g/os.elf"
            ramdisk = "/g/initrd"
            root = "/dev/xvda1"
            extra = "app=hello"
            disk = [ 'format=qcow2, vdev=xvdb, access=ro, target=/img/a,b.qcow2' ]
            vif = [ 'mac=00:16:3E:00:00:01, bridge=br0, rate=1MB/s' ]
            on_poweroff = "preserve"
            on_crash = "restart"
            """);
        Assert.Equal("web-1", c.Name);
        Assert.Equal((256, 512, 2, 4, 512, 25), (c.MemoryMiB, c.MaxMemMiB, c.Vcpus, c.MaxVcpus, c.Weight, c.Cap));
        Assert.Equal([0], c.Cpus[0].Resolve(8));
        Assert.Equal([1, 3], c.Cpus[1].Resolve(8));
        Assert.Equal("/g/initrd", c.Ramdisk);
        Assert.Equal("root=/dev/xvda1 app=hello", c.CommandLine);
        var d = c.Disks.Single();
        Assert.Equal(("/img/a,b.qcow2", DiskFormat.Qcow2, "xvdb", true), (d.Target, d.Format, d.Vdev, d.ReadOnly));
        var v = c.Vifs.Single();
        Assert.Equal(("00:16:3e:00:00:01", "br0", 1_000_000UL), (v.Mac, v.Bridge, v.Rate!.BytesPerSecond));
        Assert.Equal(LifecycleAction.Preserve, c.OnPoweroff);
        Assert.Equal(LifecycleAction.Restart, c.OnCrash);
    }

    [Fact]
    public void DeviceModelTimeoutIsAnHvmDomainsWithThirtySecondsByDefault()
    {
        Assert.Equal(30, Read("name='g'\ntype='hvm'\nkernel='/k'\n").DeviceModelTimeoutSeconds);
        Assert.Equal(5, Read("name='g'\ntype='hvm'\nkernel='/k'\ndevice_model_timeout = 5\n", out var none).DeviceModelTimeoutSeconds);
        Assert.Empty(none);
        Read("name='g'\nkernel='/k'\ndevice_model_timeout = 5\n", out var warnings);
        Assert.Contains("g.cfg:3:1: warning: 'device_model_timeout' is for type 'hvm'", Assert.Single(warnings), StringComparison.Ordinal);
        var e = Assert.Throws<ConfigException>(() => Read("name='g'\ntype='hvm'\nkernel='/k'\ndevice_model_timeout = 0\n"));
        Assert.Contains("'device_model_timeout' must be a whole number from 1 to 86400", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CmdlineWinsOverRootAndExtra()
    {
        Assert.Equal("console=hvc0", Read("name='g'\nkernel='/k'\ncmdline='console=hvc0'\nextra='x'\n").CommandLine);
    }

    [Fact]
    public void UnknownKeysWarnWithTheirPosition()
    {
        Read("name='g'\nkernel='/k'\n  memroy = 64\n", out var warnings);
        Assert.Equal(["g.cfg:3:3: warning: unknown setting 'memroy' ignored"], warnings);
    }

    [Theory]
    [InlineData("kernel='/k'\n", "no 'name'")]
    [InlineData("name='g'\n", "needs a 'kernel'")]
    [InlineData("name='42'\nkernel='/k'\n", "must not be a number")]
    [InlineData("name='a b'\nkernel='/k'\n", "must be 1-64")]
    [InlineData("name='g'\nkernel='/k'\nmemory=64\nmaxmem=32\n", "maxmem 32 is below memory 64")]
    [InlineData("name='g'\nkernel='/k'\nvcpus=33\n", "from 1 to 32")]
    [InlineData("name='g'\nkernel='/k'\nmemory='lots'\n", "whole number")]
    [InlineData("name='g'\nkernel='/k'\ntype='pvh'\n", "not supported")]
    [InlineData("name='g'\nkernel='/k'\non_crash='explode'\n", "must be destroy")]
    [InlineData("name='g'\nkernel='/k'\ncap=101\n", "from 0 to 100")]
    [InlineData("name='g'\nkernel='/k'\ncpus='3-1'\n", "runs backwards")]
    [InlineData("name='g'\nkernel='/k'\ncpus='1,^1'\n", "leaves no CPU")]
    public void BadValuesAreRejectedWithAReason(string text, string reason)
    {
        var e = Assert.Throws<ConfigException>(() => Read(text));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }
}
