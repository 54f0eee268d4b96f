using System.Text.Json;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>`disagg new --type hvm`: a config `create` reads as an HVM guest with a Linux Image, a ramdisk and the UART command line; a PV kernel refused.</summary>
public sealed class NewHvmCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dts-newhvm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ProcessResult Disagg(params string[] args) => HostProcess.Run(RepoPaths.Program("disagg"), args, TestHost.Bound);

    /// <summary>The 64-byte Linux RISC-V Image header (what `new` looks at) and nothing else.</summary>
    private string Image()
    {
        var image = new byte[4096];
        "RISCV\0\0\0"u8.CopyTo(image.AsSpan(0x30));
        var path = Path.Combine(_dir, "Image");
        File.WriteAllBytes(path, image);
        return path;
    }

    [Fact]
    public void TypeHvmWritesAnHvmConfigWithTheUartAsConsole()
    {
        var cfg = Path.Combine(_dir, "lin.cfg");
        var initrd = Path.Combine(_dir, "initramfs.cpio");
        File.WriteAllBytes(initrd, [0x30, 0x37]);
        var r = Disagg("new", "lin", "--type", "hvm", "--kernel", Image(), "--ramdisk", initrd, "--vcpus", "2", "--output", cfg, "--non-interactive");
        Assert.True(r.ExitCode == 0, r.ToString());

        var dry = Disagg("create", "-n", cfg);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        var config = JsonDocument.Parse(dry.StdOut).RootElement;
        Assert.Equal("hvm", config.GetProperty("type").GetString());
        Assert.Equal(initrd, config.GetProperty("ramdisk").GetString());
        Assert.Equal(2, config.GetProperty("vcpus").GetInt32());
        Assert.StartsWith("console=ttyS0", config.GetProperty("command_line").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, config.GetProperty("disks").GetArrayLength());
        Assert.Equal(0, config.GetProperty("vifs").GetArrayLength());
    }

    [Fact]
    public void AnElfForAnotherMachineIsNotAnHvmKernel()
    {
        // The host's own /bin/true: an x86-64 (62) or another machine's ELF, never RISC-V's on this test host.
        var r = Disagg("new", "lin", "--type", "hvm", "--kernel", "/bin/true", "--output", Path.Combine(_dir, "x.cfg"), "--non-interactive");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("kernel: ", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("is an ELF for machine ", r.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "x.cfg")));
    }

    [Fact]
    public void AnUnknownTypeIsRefusedNamingTheField()
    {
        var r = Disagg("new", "lin", "--type", "kvm", "--kernel", Image(), "--output", Path.Combine(_dir, "y.cfg"), "--non-interactive");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("type: 'kvm' must be pv or hvm", r.StdErr, StringComparison.Ordinal);
    }
}
