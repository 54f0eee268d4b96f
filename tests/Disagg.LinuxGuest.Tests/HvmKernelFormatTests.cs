using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.TestSupport;
using Disagg.TestSupport.UBoot;

namespace Disagg.LinuxGuest.Tests;

/// <summary>
/// LoadKernel into an HVM domain of a real disagg-kernel reads the file as QEMU virt's -kernel does: a Linux
/// Image (LinuxBootTests), an ELF at its segments' addresses, anything else raw at RAM + 2 MiB. Hostile ELF
/// headers, segments outside RAM, empty and compressed files are refused (EINVAL, the reason in the message)
/// and leave the domain paused with nothing loaded. Nothing here runs a guest.
/// </summary>
public sealed class HvmKernelFormatTests : IAsyncLifetime
{
    private const ulong Base = 0x8040_0000;

    private KernelProcess _kernel = null!;
    private KernelClient _control = null!;

    public async Task InitializeAsync()
    {
        _kernel = await KernelProcess.StartAsync(pcpus: 1, memory: "128M");
        _control = await _kernel.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _control.DisposeAsync();
        await _kernel.DisposeAsync();
    }

    [Fact]
    public async Task AnElfIsLoadedAtItsSegmentsAndEnteredAtItsEntry()
    {
        var id = await CreateAsync("elf");
        await _control.CallAsync<OkReply>(new LoadKernel(id, Elf(), null, ""));
        var dmesg = await DmesgAsync();
        Assert.Contains($"domain {id}: HVM boot: ELF 0x80400000-0x80402000 entered at 0x80400010", dmesg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnythingElseIsRawAtRamPlus2MiB()
    {
        var id = await CreateAsync("raw");
        await _control.CallAsync<OkReply>(new LoadKernel(id, [0x13, 0, 0, 0, 0x6F, 0, 0, 0], null, ""));
        var dmesg = await DmesgAsync();
        Assert.Contains($"domain {id}: HVM boot: raw 0x80200000-0x80200008 entered at 0x80200000", dmesg, StringComparison.Ordinal);
    }

    /// <summary>Debian's U-Boot as an ELF: one PT_LOAD at its link address 0x8020_0000 (and a RISCV_ATTRIBUTES header, skipped).</summary>
    [UBootFact]
    public async Task DebiansUBootElfLoadsAtItsLinkAddress()
    {
        var id = await CreateAsync("uboot-elf");
        await _control.CallAsync<OkReply>(new LoadKernel(id, await File.ReadAllBytesAsync(UBootFiles.Elf), null, ""));
        var dmesg = await DmesgAsync();
        Assert.Matches($@"domain {id}: HVM boot: ELF 0x80200000-0x802[0-9a-f]{{5}} entered at 0x80200000", dmesg);
    }

    [Theory]
    [InlineData("empty", "the file is empty")]
    [InlineData("gzip", "compressed (gzip)")]
    [InlineData("xz", "compressed (xz)")]
    [InlineData("truncated-header", "truncated ELF header")]
    [InlineData("class", "unknown ELF class 3")]
    [InlineData("big-endian", "not a little-endian ELF")]
    [InlineData("x86", "not a RISC-V ELF (e_machine 62)")]
    [InlineData("rv32", "an RV32 ELF: HVM domains are RV64")]
    [InlineData("phoff-outside", "program header table missing or outside the file")]
    [InlineData("phnum-huge", "program header table missing or outside the file")]
    [InlineData("phentsize-small", "program header table missing or outside the file")]
    [InlineData("no-phdrs", "program header table missing or outside the file")]
    [InlineData("data-outside", "segment 0: data at 0x7ffffffffffffff0+0x1000 lies outside the file")]
    [InlineData("filesz-over-memsz", "segment 0: file size 0x1000 exceeds memory size 0x10")]
    [InlineData("no-load", "no loadable segment")]
    [InlineData("below-ram", "ELF kernel: segment 0x1000+0x2000 lies outside RAM 0x80000000-0x81000000 (16 MiB)")]
    [InlineData("past-ram", "ELF kernel: segment 0x80fff000+0x2000 lies outside RAM")]
    [InlineData("wraps", "ELF kernel: segment 0xfffffffffffff000+0x2000 lies outside RAM")]
    [InlineData("huge-memsz", "ELF kernel: segment 0x80400000+0x4000000000000000 lies outside RAM")]
    [InlineData("entry-outside", "ELF kernel: entry point 0x1234 is in no loaded segment")]
    public async Task AHostileOrMisplacedKernelIsRefusedAndTheDomainStaysPaused(string how, string reason)
    {
        var id = await CreateAsync(how);
        var file = how switch
        {
            "empty" => [],
            "gzip" => [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3],
            "xz" => [0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0, 0, 4],
            "truncated-header" => Elf()[..40],
            "class" => Elf(e => e[4] = 3),
            "big-endian" => Elf(e => e[5] = 2),
            "x86" => Elf(e => BitConverter.TryWriteBytes(e.AsSpan(18), (ushort)62)),
            "rv32" => await File.ReadAllBytesAsync(Path.Combine(RepoPaths.Guests, "rv32", "hello.elf")),
            "phoff-outside" => Elf(e => BitConverter.TryWriteBytes(e.AsSpan(32), 0xFFFF_FFFF_FFFF_FF00UL)),
            "phnum-huge" => Elf(e => BitConverter.TryWriteBytes(e.AsSpan(56), (ushort)0xFFFF)),
            "phentsize-small" => Elf(e => BitConverter.TryWriteBytes(e.AsSpan(54), (ushort)8)),
            "no-phdrs" => Elf(e => BitConverter.TryWriteBytes(e.AsSpan(56), (ushort)0)),
            "data-outside" => Elf(e => BitConverter.TryWriteBytes(e.AsSpan(64 + 8), 0x7FFF_FFFF_FFFF_FFF0UL)),
            "filesz-over-memsz" => Elf(e => BitConverter.TryWriteBytes(e.AsSpan(64 + 40), 0x10UL)),
            "no-load" => Elf(e => BitConverter.TryWriteBytes(e.AsSpan(64), 4U)), // PT_NOTE
            "below-ram" => Elf(paddr: 0x1000),
            "past-ram" => Elf(paddr: 0x80FF_F000),
            "wraps" => Elf(paddr: 0xFFFF_FFFF_FFFF_F000),
            "huge-memsz" => Elf(e => BitConverter.TryWriteBytes(e.AsSpan(64 + 40), 1UL << 62)),
            "entry-outside" => Elf(e => BitConverter.TryWriteBytes(e.AsSpan(24), 0x1234UL)),
            _ => throw new ArgumentException(how),
        };

        var e = await Assert.ThrowsAsync<KernelRequestException>(() => _control.CallAsync<OkReply>(new LoadKernel(id, file, null, "")));
        Assert.Equal((int)XenErrno.EINVAL, e.Errno);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        var domain = (await _control.CallAsync<DomainList>(new ListDomains())).Domains.Single(d => d.DomainId == id);
        Assert.Equal("p", domain.State);
        Assert.DoesNotContain($"domain {id}: HVM boot:", await DmesgAsync(), StringComparison.Ordinal);
    }

    /// <summary>The kernel message log, where LoadKernel says what it placed where.</summary>
    private async Task<string> DmesgAsync() =>
        System.Text.Encoding.UTF8.GetString((await _control.CallAsync<MessageLogChunk>(new ReadMessageLog(0, 1 << 20))).Text);

    private async Task<int> CreateAsync(string name) =>
        (await _control.CallAsync<DomainCreated>(new CreateDomain(name, GuestIsa.Rv64, 1, 1, 16L << 10, 16L << 10, 256, 0, [ulong.MaxValue], 0, 0, Hvm: true))).DomainId;

    /// <summary>
    /// An RV64 RISC-V ELF (TestSupport's ElfWriter: header at 0, one PT_LOAD program header at 64) with 0x1000 file bytes
    /// loaded at <paramref name="paddr"/> in 0x2000 of memory, entered 0x10 into it; <paramref name="spoil"/> edits it.
    /// </summary>
    private static byte[] Elf(Action<byte[]>? spoil = null, ulong paddr = Base)
    {
        var e = ElfWriter.Build([new ElfSegment(paddr, new byte[0x1000], 0x2000)], paddr + 0x10, is64: true);
        spoil?.Invoke(e);
        return e;
    }
}
