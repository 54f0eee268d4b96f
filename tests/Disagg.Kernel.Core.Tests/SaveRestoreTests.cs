using System.Text;
using Disagg.DomainImage;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Persist;
using Disagg.Kernel.Cpu;
using Disagg.Kernel.Cpu.Tests;
using Disagg.TestSupport;

namespace Disagg.Kernel.Core.Tests;

/// <summary>
/// Save a running guest mid-run, destroy it, restore it into a new domain: its output continues exactly as an
/// uninterrupted run's. A bad image is refused before any domain is created.
/// </summary>
[Collection(RealHypervisorCollection.Name)]
public sealed class SaveRestoreTests : IDisposable
{
    private const int Letters = 300;
    private const int S1 = 9, S2 = 18, S3 = 19;
    private readonly HypervisorFixture _hv = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("save-restore-").FullName;

    public void Dispose()
    {
        _hv.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>
    /// Prints <see cref="Letters"/> letters of the alphabet through the SBI console, slowly: the next letter is
    /// kept in memory (its data page), the count in a register, and a delay loop between letters keeps the
    /// guest busy long enough to be paused mid-run.
    /// </summary>
    private static GuestProgram Alphabet()
    {
        var p = new GuestProgram();
        var letter = p.Data(new byte[8]);
        p.La(S1, letter).Li(S2, Letters);
        var loop = p.Here;
        p.Emit(Asm.Lw(GuestProgram.T0, S1, 0))
            .Emit(Asm.Addi(GuestProgram.A0, GuestProgram.T0, 'a'))
            .Li(GuestProgram.A7, 1).Emit(Asm.Ecall) // legacy console_putchar
            .Emit(Asm.Addi(GuestProgram.T0, GuestProgram.T0, 1))
            .Li(GuestProgram.T1, 26)
            .Emit(Asm.Bne(GuestProgram.T0, GuestProgram.T1, 8))
            .Emit(Asm.Addi(GuestProgram.T0, 0, 0))
            .Emit(Asm.Sw(GuestProgram.T0, S1, 0))
            .Li(S3, 100_000);
        p.Emit(Asm.Addi(S3, S3, -1)).Emit(Asm.Bne(S3, 0, -4))
            .Emit(Asm.Addi(S2, S2, -1));
        p.Emit(Asm.Bne(S2, 0, (int)((long)loop - (long)p.Here)));
        return p.Shutdown();
    }

    private static string Console(Domain d)
    {
        var buf = new byte[d.EarlyConsole.Capacity];
        var n = d.EarlyConsole.Read(0, buf, out _, out _);
        return Encoding.ASCII.GetString(buf, 0, n);
    }

    private string Reference(IsaWidth isa)
    {
        var d = _hv.Boot(Alphabet(), name: "reference", isa: isa);
        Assert.True(Eventually.Holds(() => d.State == DomainState.Shutdown, 60), $"reference run: {d.State}, {Console(d).Length} letters");
        var text = Console(d);
        _hv.Hypervisor.DestroyDomain(d);
        return text;
    }

    /// <summary>Boots the alphabet guest, pauses it a few letters in, saves it to a file and destroys it; returns what it printed.</summary>
    private string SaveMidRun(IsaWidth isa, string file)
    {
        var d = _hv.Boot(Alphabet(), isa: isa);
        Assert.True(Eventually.Holds(() => Console(d).Length >= 20, 30), $"guest printed {Console(d).Length} letters");
        d.Pause();
        using (var stream = File.Create(file))
        {
            DomainSave.Write(_hv.Hypervisor, d, stream, "name = \"guest\"\n"u8.ToArray());
        }

        var before = Console(d);
        _hv.Hypervisor.DestroyDomain(d);
        Assert.InRange(before.Length, 20, Letters - 1);
        return before;
    }

    [Theory]
    [InlineData(IsaWidth.Rv64)]
    [InlineData(IsaWidth.Rv32)]
    public void ARestoredGuestContinuesItsOutputExactlyAsAnUninterruptedRun(IsaWidth isa)
    {
        var reference = Reference(isa);
        Assert.Equal(Letters, reference.Length);
        var file = Path.Combine(_dir, "guest.img");
        var before = SaveMidRun(isa, file);

        using var stream = File.OpenRead(file);
        var image = DomainRestore.Read(stream);
        Assert.Equal(isa == IsaWidth.Rv32 ? ImageIsa.Rv32 : ImageIsa.Rv64, image.Header.Isa); // an RV32 guest restores on this rv64 host
        var restored = DomainRestore.Rebuild(_hv.Hypervisor, image);
        Assert.Equal(DomainState.Paused, restored.State);
        Assert.Equal(isa, restored.Spec.Isa);
        Assert.True(restored.Unpause());
        Assert.True(Eventually.Holds(() => restored.State == DomainState.Shutdown, 60), $"restored run: {restored.State}\n{_hv.Dmesg()}");
        Assert.Equal(reference, before + Console(restored));
    }

    [Fact]
    public void AnImageKeepsThePausedGuestsRegistersAndMemory()
    {
        var file = Path.Combine(_dir, "guest.img");
        var d = _hv.Boot(Alphabet());
        Assert.True(Eventually.Holds(() => Console(d).Length >= 5, 30));
        d.Pause();
        using (var stream = File.Create(file))
        {
            DomainSave.Write(_hv.Hypervisor, d, stream);
        }

        var saved = d.Vcpus[0].Hart.Save();
        var letter = new byte[4];
        Assert.True(d.Vcpus[0].Hart.TryReadPhysical(GuestProgram.DataBase, letter));
        using var read = File.OpenRead(file);
        var restored = DomainRestore.Rebuild(_hv.Hypervisor, DomainRestore.Read(read));
        var state = restored.Vcpus[0].Hart.Save();
        Assert.Equal(saved.X, state.X);
        Assert.Equal(saved.Pc, state.Pc);
        Assert.Equal(saved.Privilege, state.Privilege);
        Assert.Equal(saved.InstructionsRetired, state.InstructionsRetired);
        var again = new byte[4];
        Assert.True(restored.Vcpus[0].Hart.TryReadPhysical(GuestProgram.DataBase, again));
        Assert.Equal(letter, again);
        Assert.Equal(d.Memory.PopulatedPages, restored.Memory.PopulatedPages);
        Assert.Equal(d.Events.BoundPorts().ToArray(), restored.Events.BoundPorts().ToArray());
    }

    [Fact]
    public void ATruncatedOrCorruptImageIsRefusedAndNoDomainIsCreated()
    {
        var file = Path.Combine(_dir, "guest.img");
        SaveMidRun(IsaWidth.Rv64, file);
        var bytes = File.ReadAllBytes(file);
        var domains = _hv.Hypervisor.Domains.Count;

        var truncated = Assert.Throws<DomainImageException>(() => DomainRestore.Read(new MemoryStream(bytes[..(bytes.Length - 10)])));
        Assert.Equal(DomainImageError.Truncated, truncated.Error);

        var corrupt = (byte[])bytes.Clone();
        corrupt[corrupt.Length / 2] ^= 0x01;
        var flipped = Assert.Throws<DomainImageException>(() => DomainRestore.Read(new MemoryStream(corrupt)));
        Assert.Equal(DomainImageError.ChecksumMismatch, flipped.Error);
        Assert.Equal(domains, _hv.Hypervisor.Domains.Count);
    }

    [Fact]
    public void APvDomainHasNoDeviceModelState()
    {
        var d = _hv.Hypervisor.CreateDomain(new DomainSpec { Name = "pv", MemoryPages = 64, MaxMemoryPages = 64 });
        d.Pause();
        using var stream = new MemoryStream();
        Assert.Throws<ArgumentException>(() => DomainSave.Write(_hv.Hypervisor, d, stream, deviceModel: new DeviceModelRecord(DeviceModelRecord.QemuDm, [])));
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void AnImageAskingForMoreMemoryThanTheHostHasIsRefusedBeforeCreation()
    {
        // The attack: a forged image whose domain record claims terabytes of maxmem, so that the restoring
        // host sizes the P2M and its backing for it before any budget check.
        var file = Path.Combine(_dir, "guest.img");
        SaveMidRun(IsaWidth.Rv64, file);
        using var stream = File.OpenRead(file);
        var image = DomainRestore.Read(stream);
        var forged = image with { Domain = image.Domain with { MaxPages = 1L << 40 } };
        var domains = _hv.Hypervisor.Domains.Count;
        var e = Assert.Throws<DomainImageException>(() => DomainRestore.Rebuild(_hv.Hypervisor, forged));
        Assert.Equal(DomainImageError.DoesNotFitHost, e.Error);
        Assert.Equal(ImageRecordKind.Domain, e.Kind);
        Assert.Equal(domains, _hv.Hypervisor.Domains.Count);
    }
}
