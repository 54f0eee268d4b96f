namespace Disagg.Toolstack.Tests;

/// <summary>
/// `disagg create` of type = "hvm" configs it must refuse, each with a one-line reason and nothing left behind
/// (no domain, no qemu-dm service). The last one gets as far as a running qemu-dm: the kernel refuses the
/// Image, and the device model goes with the domain.
/// </summary>
public sealed class HvmCreateRefusalTests(TestHost host) : IClassFixture<TestHost>
{
    [Fact]
    public void AnHvmConfigWithoutAKernelIsRefused() =>
        Refused("nokernel", "", "an hvm domain needs a 'kernel' setting");

    [Fact]
    public void AMissingKernelIsRefused() =>
        Refused("missing", $"kernel = \"{Path.Combine(host.GuestDir, "no-such-Image")}\"\n", "cannot read kernel");

    [Fact]
    public void AnElfKernelIsNotALinuxImage() =>
        Refused("elf", $"kernel = \"{Path.Combine(RepoPaths.Guests, "rv64", "hello.elf")}\"\n", "is not a Linux RISC-V Image");

    [Fact]
    public void AnHvmDiskIsCheckedAsAPvOneIs() =>
        Refused("nodisk", $"kernel = \"{FakeImage("nodisk")}\"\ndisk = [ 'format=raw, vdev=xvda, access=rw, target={Path.Combine(host.GuestDir, "absent.img")}' ]\n", "absent.img (raw): does not exist");

    [Fact]
    public void VifLinesAreRefusedOnAHostWithoutXenstoredAndNetback() =>
        Refused("vif", $"kernel = \"{FakeImage("vif")}\"\nvif = [ 'bridge=xenbr0' ]\n", "type 'hvm' with vif lines needs xenstored and netback on this host");

    [Fact]
    public void AnImageTheKernelRefusesTakesItsDeviceModelWithIt()
    {
        // The magic is right, the text_offset is not page-aligned: the toolstack's check passes, LoadKernel fails after qemu-dm started.
        var path = FakeImage("badhdr", textOffset: 0x123);
        Refused("badhdr", $"kernel = \"{path}\"\n", "text_offset");
    }

    /// <summary>A file with the Linux RISC-V Image header and nothing to run.</summary>
    private string FakeImage(string name, ulong textOffset = 0x200000)
    {
        var image = new byte[4096];
        BitConverter.TryWriteBytes(image.AsSpan(8), textOffset);
        BitConverter.TryWriteBytes(image.AsSpan(16), (ulong)image.Length);
        "RISCV\0\0\0"u8.CopyTo(image.AsSpan(0x30));
        "RSC\u0005"u8.CopyTo(image.AsSpan(0x38));
        var path = Path.Combine(host.GuestDir, name + ".Image");
        File.WriteAllBytes(path, image);
        return path;
    }

    private void Refused(string name, string settings, string reason)
    {
        var cfg = Path.Combine(host.GuestDir, $"hvm-{name}.cfg");
        File.WriteAllText(cfg, $"name = \"hvm-{name}\"\ntype = \"hvm\"\nmemory = 16\n{settings}");
        var r = host.Run("create", cfg);
        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.Contains(reason, r.StdErr, StringComparison.Ordinal);
        Assert.Null(host.Domain($"hvm-{name}"));
        Assert.DoesNotContain(host.Json("service", "list").EnumerateArray(), s => s.GetProperty("name").GetString()!.StartsWith("qemu-dm-", StringComparison.Ordinal));
    }
}
