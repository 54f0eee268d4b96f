using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Kernel.Core.Tests;
using Disagg.Kernel.Cpu.Tests;
using Disagg.TestSupport;

namespace Disagg.Kernel.Control.Tests;

/// <summary>SaveDomain and RestoreDomain on the real kernel process, as the toolstack's save/restore verbs will use them.</summary>
public sealed class SaveRestoreRequestTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("save-requests-").FullName;
    private KernelProcess _kernel = null!;
    private KernelClient _control = null!;

    public async Task InitializeAsync()
    {
        _kernel = await KernelProcess.StartAsync();
        _control = await _kernel.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _control.DisposeAsync();
        await _kernel.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<int> BootSpinnerAsync(string name)
    {
        var program = new GuestProgram().Emit(Asm.Addi(GuestProgram.T0, GuestProgram.T0, 1)).JumpBack(1);
        var created = await _control.CallAsync<DomainCreated>(new CreateDomain(name, GuestIsa.Rv64, 1, 1, 1024, 1024, 256, 0, [ulong.MaxValue], 0, 0));
        var elf = ElfWriter.Build([.. program.Build().Select(s => new ElfSegment(s.PhysicalAddress, s.Data, s.MemorySize))], GuestProgram.CodeBase, true);
        await _control.CallAsync<OkReply>(new LoadKernel(created.DomainId, elf, null, "test"));
        await _control.CallAsync<OkReply>(new DomainCommand(created.DomainId, DomainOperation.Unpause));
        return created.DomainId;
    }

    private async Task<DomainSummary?> FindAsync(int id) =>
        (await _control.CallAsync<DomainList>(new ListDomains())).Domains.SingleOrDefault(d => d.DomainId == id);

    [Fact]
    public async Task APausedDomainSavedToAFileAndDestroyedComesBackUnderANewIdAndRuns()
    {
        var id = await BootSpinnerAsync("spinner");
        var image = Path.Combine(_dir, "spinner.img");
        var running = await Assert.ThrowsAsync<KernelRequestException>(() => _control.CallAsync<OkReply>(new SaveDomain(id, image, [])));
        Assert.Equal((int)XenErrno.EBUSY, running.Errno);

        await _control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Pause));
        await _control.CallAsync<OkReply>(new SaveDomain(id, image, "name = \"spinner\"\n"u8.ToArray()));
        Assert.False(File.Exists(image + ".partial"));
        await _control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Destroy));

        var restored = await _control.CallAsync<DomainCreated>(new RestoreDomain(image, "", 0, 0));
        Assert.NotEqual(id, restored.DomainId);
        var row = await FindAsync(restored.DomainId);
        Assert.Equal(("spinner", "p", 1024L), (row!.Name, row.State, row.MemoryKiB));
        await _control.CallAsync<OkReply>(new DomainCommand(restored.DomainId, DomainOperation.Unpause));
        Assert.True(await Eventually.HoldsAsync(async () => (await FindAsync(restored.DomainId))?.CpuTimeNs > 20_000_000));
    }

    [Fact]
    public async Task AGarbageImageIsRefusedNamingTheRecordAndNoDomainAppears()
    {
        var garbage = Path.Combine(_dir, "garbage.img");
        await File.WriteAllTextAsync(garbage, "name = \"not an image\"\n");
        var before = (await _control.CallAsync<DomainList>(new ListDomains())).Domains.Count;
        var e = await Assert.ThrowsAsync<KernelRequestException>(() => _control.CallAsync<DomainCreated>(new RestoreDomain(garbage, "x", 0, 0)));
        Assert.Equal((int)XenErrno.EINVAL, e.Errno);
        Assert.Contains("record 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("ForeignImage", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, (await _control.CallAsync<DomainList>(new ListDomains())).Domains.Count);

        var missing = await Assert.ThrowsAsync<KernelRequestException>(() => _control.CallAsync<DomainCreated>(new RestoreDomain(Path.Combine(_dir, "none.img"), "x", 0, 0)));
        Assert.Equal((int)XenErrno.ENOENT, missing.Errno);
    }
}
