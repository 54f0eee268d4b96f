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
    public void AnElfForAnotherMachineIsRefused() =>
        Refused("x86", $"kernel = \"{Write("x86.elf", Elf(machine: 62))}\"\n", "is an ELF for machine 62, not RISC-V (243)");

    [Fact]
    public void AnRv32ElfIsRefused() =>
        Refused("rv32", $"kernel = \"{Path.Combine(RepoPaths.Guests, "rv32", "hello.elf")}\"\n", "is an RV32 ELF");

    [Fact]
    public void AnEmptyKernelIsRefused() =>
        Refused("empty", $"kernel = \"{Write("empty.bin", [])}\"\n", "is empty, not a kernel type 'hvm' boots");

    /// <summary>The kernel reads the file: a gzip'd Image (Debian's vmlinuz as shipped) would boot raw as garbage.</summary>
    [Fact]
    public void ACompressedKernelIsRefusedByTheKernel() =>
        Refused("gzip", $"kernel = \"{Write("vmlinuz", [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4])}\"\n", "kernel refused: compressed (gzip): decompress it first");

    /// <summary>An RV64 RISC-V ELF whose segment lies below RAM: the kernel refuses it before anything is loaded.</summary>
    [Fact]
    public void AnElfSegmentOutsideRamIsRefusedByTheKernel() =>
        Refused("lowelf", $"kernel = \"{Write("low.elf", Elf(machine: 243, paddr: 0x1000))}\"\n", "ELF kernel: segment 0x1000+0x1000 lies outside RAM 0x80000000-0x81000000 (16 MiB)");

    [Fact]
    public void AnHvmDiskIsCheckedAsAPvOneIs() =>
        Refused("nodisk", $"kernel = \"{FakeImage("nodisk")}\"\ndisk = [ 'format=raw, vdev=xvda, access=rw, target={Path.Combine(host.GuestDir, "absent.img")}' ]\n", "absent.img (raw): does not exist");

    [Fact]
    public void VifLinesAreRefusedOnAHostWithoutXenstoredAndNetback() =>
        Refused("vif", $"kernel = \"{FakeImage("vif")}\"\nvif = [ 'bridge=xenbr0' ]\n", "type 'hvm' with vif lines needs xenstored and netback on this host");

    /// <summary>ip= is what a PV guest's netfront reads from xenstore; an unmodified guest sets its own address, so it would do nothing.</summary>
    [Fact]
    public void AVifIpIsRefusedForAnHvmGuestSayingWhy() =>
        Refused("vifip", $"kernel = \"{FakeImage("vifip")}\"\nvif = [ 'bridge=xenbr0', 'bridge=xenbr0, ip=10.0.0.5/24' ]\n", "vif 1: ip=10.0.0.5/24 cannot reach a type 'hvm' guest: its own OS sets its address");

    [Fact]
    public void AnImageTheKernelRefusesTakesItsDeviceModelWithIt()
    {
        // The magic is right, the text_offset is not page-aligned: the toolstack's check passes, LoadKernel fails after qemu-dm started.
        var path = FakeImage("badhdr", textOffset: 0x123);
        Refused("badhdr", $"kernel = \"{path}\"\n", "text_offset");
    }

    /// <summary>An RV64 ELF (TestSupport's ElfWriter) of one 0x1000-byte PT_LOAD at <paramref name="paddr"/>, entered there, for <paramref name="machine"/>.</summary>
    private static byte[] Elf(ushort machine, ulong paddr = 0x8020_0000)
    {
        var e = ElfWriter.Build([new ElfSegment(paddr, new byte[0x1000], 0x1000)], paddr, is64: true);
        BitConverter.TryWriteBytes(e.AsSpan(18), machine); // e_machine
        return e;
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(host.GuestDir, name);
        File.WriteAllBytes(path, bytes);
        return path;
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
