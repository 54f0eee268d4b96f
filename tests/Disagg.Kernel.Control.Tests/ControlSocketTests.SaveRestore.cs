using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Kernel.Core.Tests;
using Disagg.Kernel.Cpu.Tests;
using Disagg.TestSupport;

namespace Disagg.Kernel.Control.Tests;

/// <summary>SaveDomain and RestoreDomain on the real kernel process, as the toolstack's save/restore verbs will use them.</summary>
public sealed partial class ControlSocketTests
{
    [Fact]
    public async Task APausedDomainSavedToAFileAndDestroyedComesBackUnderANewIdAndRuns()
    {
        var dir = Directory.CreateTempSubdirectory("save-requests-").FullName;
        try
        {
            var id = await BootAsync(new GuestProgram().Emit(Asm.Addi(GuestProgram.T0, GuestProgram.T0, 1)).JumpBack(1), "spinner");
            var image = Path.Combine(dir, "spinner.img");
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
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AGarbageImageIsRefusedNamingTheRecordAndNoDomainAppears()
    {
        var garbage = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(garbage, "name = \"not an image\"\n");
            var before = (await _control.CallAsync<DomainList>(new ListDomains())).Domains.Count;
            var e = await Assert.ThrowsAsync<KernelRequestException>(() => _control.CallAsync<DomainCreated>(new RestoreDomain(garbage, "x", 0, 0)));
            Assert.Equal((int)XenErrno.EINVAL, e.Errno);
            Assert.Contains("record 0", e.Message, StringComparison.Ordinal);
            Assert.Contains("ForeignImage", e.Message, StringComparison.Ordinal);
            Assert.Equal(before, (await _control.CallAsync<DomainList>(new ListDomains())).Domains.Count);

            var missing = await Assert.ThrowsAsync<KernelRequestException>(() => _control.CallAsync<DomainCreated>(new RestoreDomain(garbage + ".none", "x", 0, 0)));
            Assert.Equal((int)XenErrno.ENOENT, missing.Errno);
        }
        finally
        {
            File.Delete(garbage);
        }
    }
}
