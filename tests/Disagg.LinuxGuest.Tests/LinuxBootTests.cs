using System.Globalization;
using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.TestSupport;
using Disagg.TestSupport.LinuxGuest;
using Xunit.Abstractions;

namespace Disagg.LinuxGuest.Tests;

/// <summary>
/// Debian's riscv64 kernel, unmodified, boots as an HVM domain of a real disagg-kernel: CreateDomain with
/// Hvm, LoadKernel with the Image, our initramfs and a command line, Unpause. Its console is SBI's
/// (earlycon=sbi over DBCN); /init logs through /dev/kmsg, runs DISAGG_RUN and powers off with SBI SRST.
/// </summary>
public sealed class LinuxBootTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>A boot is a few billion instructions (tens of seconds); the bound leaves room for a loaded host.</summary>
    private static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(5);

    private KernelProcess _kernel = null!;
    private KernelClient _control = null!;

    public async Task InitializeAsync()
    {
        _kernel = await KernelProcess.StartAsync(pcpus: 2, memory: "512M");
        _control = await _kernel.ConnectAsync();
        await _control.CallAsync<OkReply>(new Subscribe());
    }

    public async Task DisposeAsync()
    {
        await _control.DisposeAsync();
        await _kernel.DisposeAsync();
    }

    [LinuxGuestFact]
    public async Task DebianLinuxBootsToOurInitSeesBothHartsAndPowersOff()
    {
        var boot = await LinuxBoot.RunAsync(_control, "linux", LinuxBoot.CommandLine("cat /proc/cpuinfo"), vcpus: 2, memoryMiB: 128, BootTimeout);
        var text = boot.Console;
        output.WriteLine(text);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"create to init: {boot.CreateToInit?.TotalSeconds:F1} s, to power off: {boot.CreateToEnd.TotalSeconds:F1} s"));

        Assert.Contains("Linux version 6.", text, StringComparison.Ordinal);
        Assert.Contains(LinuxBoot.InitMarker, text, StringComparison.Ordinal);
        Assert.Contains("disagg-run: processor\t: 0", text, StringComparison.Ordinal);
        Assert.Contains("disagg-run: processor\t: 1", text, StringComparison.Ordinal); // the second hart came up through SBI HSM
        Assert.Contains("disagg-run: isa\t\t: rv64imafdc", text, StringComparison.Ordinal);
        Assert.Contains("disagg-init: done", text, StringComparison.Ordinal);
        Assert.Equal("s", boot.End.State);
        Assert.Equal((int)ShutdownReason.Poweroff, boot.End.ShutdownReason);
    }

    [Fact]
    public async Task ALinuxImageIntoAPvDomainIsRefused()
    {
        var id = (await _control.CallAsync<DomainCreated>(Spec("pv", vcpus: 1, memoryMiB: 8, hvm: false))).DomainId;
        var e = await Assert.ThrowsAsync<KernelRequestException>(() => _control.CallAsync<OkReply>(new LoadKernel(id, ImageHeader(0x20_0000, 0x10_0000), null, "")));
        Assert.Equal((int)XenErrno.EINVAL, e.Errno);
        Assert.Contains("HVM", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("gzip")]
    [InlineData("truncated")]
    [InlineData("big-endian")]
    [InlineData("misaligned-offset")]
    [InlineData("size-below-file")]
    [InlineData("larger-than-ram")]
    [InlineData("initrd-does-not-fit")]
    public async Task ABadImageOrOneThatDoesNotFitIsRefusedAndTheDomainStaysPaused(string how)
    {
        var id = (await _control.CallAsync<DomainCreated>(Spec("bad-" + how, vcpus: 1, memoryMiB: 8))).DomainId;
        byte[]? ramdisk = null;
        var image = how switch
        {
            "empty" => [],
            "gzip" => [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, 0x5A, 0x5A],
            "truncated" => ImageHeader(0x20_0000, 0x10_0000)[..0x38],
            "big-endian" => ImageHeader(0x20_0000, 0x10_0000, flags: 1),
            "misaligned-offset" => ImageHeader(0x20_0010, 0x10_0000),
            "size-below-file" => ImageHeader(0x20_0000, 16),
            "larger-than-ram" => ImageHeader(0x20_0000, 64UL << 20),
            _ => ImageHeader(0x20_0000, 0x10_0000),
        };
        if (how == "initrd-does-not-fit")
        {
            ramdisk = new byte[7 << 20];
        }

        var e = await Assert.ThrowsAsync<KernelRequestException>(() => _control.CallAsync<OkReply>(new LoadKernel(id, image, ramdisk, "")));
        Assert.Equal((int)XenErrno.EINVAL, e.Errno);
        var domain = (await _control.CallAsync<DomainList>(new ListDomains())).Domains.Single(d => d.DomainId == id);
        Assert.Equal("p", domain.State);
    }

    private static CreateDomain Spec(string name, int vcpus, long memoryMiB, bool hvm = true) =>
        new(name, GuestIsa.Rv64, vcpus, vcpus, memoryMiB << 10, memoryMiB << 10, 256, 0, [ulong.MaxValue], 0, 0, Hvm: hvm);

    /// <summary>A 4 KiB file with a RISC-V Image header (boot-image-header.rst) and nothing to run.</summary>
    private static byte[] ImageHeader(ulong textOffset, ulong imageSize, ulong flags = 0)
    {
        var b = new byte[4096];
        BitConverter.TryWriteBytes(b.AsSpan(8), textOffset);
        BitConverter.TryWriteBytes(b.AsSpan(16), imageSize);
        BitConverter.TryWriteBytes(b.AsSpan(24), flags);
        BitConverter.TryWriteBytes(b.AsSpan(32), 2u); // header version 0.2
        "RISCV\0\0\0"u8.CopyTo(b.AsSpan(0x30));
        "RSC\x05"u8.CopyTo(b.AsSpan(0x38));
        return b;
    }
}
