using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Migration;
using Disagg.Kernel.Core.Persist;
using Disagg.Kernel.Cpu;
using Disagg.Kernel.Cpu.Tests;
using Disagg.TestSupport;

namespace Disagg.Kernel.Core.Tests;

/// <summary>
/// The dirty log under a guest storing as fast as it can, with either CPU engine: a shadow copy kept up to date
/// only from the log's bitmaps, round after round while the guest runs, then once more with it paused, equals
/// its memory byte for byte — a store the log missed (a translated store through an old write entry, a round's
/// clear racing a running vCPU) leaves the shadow stale.
/// </summary>
[Collection(RealHypervisorCollection.Name)]
public sealed class DirtyLogTests
{
    private const int RegionPages = 128;
    private const int MemoryKiB = 1024;

    /// <summary>Stores a rising counter into the first word of each of 128 pages in turn, forever.</summary>
    private static GuestProgram Writer()
    {
        const int Base = 18, Ptr = 21, Count = 19, Value = 20, Stride = 22;
        var p = new GuestProgram();
        p.La(Base, GuestProgram.CodeBase + 0x40000).Li(Stride, 4096).Li(Value, 1);
        var outer = p.Here;
        p.Emit(Asm.Addi(Ptr, Base, 0)).Li(Count, RegionPages);
        var inner = p.Here;
        p.Emit(Asm.Sd(Value, Ptr, 0))
            .Emit(Asm.Add(Ptr, Ptr, Stride))
            .Emit(Asm.Addi(Value, Value, 1))
            .Emit(Asm.Addi(Count, Count, -1));
        p.Emit(Asm.Bne(Count, 0, (int)((long)inner - (long)p.Here)));
        p.Emit(Asm.Jal(0, (int)((long)outer - (long)p.Here)));
        return p;
    }

    [Theory]
    [InlineData(HartEngine.Interpret)]
    [InlineData(HartEngine.Translate)]
    public unsafe void AShadowKeptFromTheLogEqualsMemoryAfterTheLastRound(HartEngine engine)
    {
        using var hv = new HypervisorFixture(engine: engine);
        var d = hv.Boot(Writer(), memoryKiB: MemoryKiB);
        var memory = d.Memory;
        var pages = (int)memory.MaxPages;
        var shadow = new byte[pages * 4096];
        void Copy(long bit) => new ReadOnlySpan<byte>(memory.Frame(memory.FrameOfDirtyBit(bit), forWrite: false), 4096).CopyTo(shadow.AsSpan((int)bit * 4096));

        DirtyLog.Enable(d);
        for (var bit = 0; bit < pages; bit++)
        {
            Copy(bit);
        }

        var dirtyRounds = 0;
        for (var round = 0; round < 40; round++)
        {
            Thread.Sleep(5);
            var bitmap = DirtyLog.Clean(hv.Hypervisor, d);
            var marked = 0;
            for (var bit = 0; bit < pages; bit++)
            {
                if ((bitmap[bit >> 6] & (1UL << (bit & 63))) != 0)
                {
                    Copy(bit);
                    marked++;
                }
            }

            dirtyRounds += marked > 0 ? 1 : 0;
        }

        d.Pause();
        DomainSave.WaitOffCpu(hv.Hypervisor, d);
        var last = DirtyLog.Clean(hv.Hypervisor, d);
        for (var bit = 0; bit < pages; bit++)
        {
            if ((last[bit >> 6] & (1UL << (bit & 63))) != 0)
            {
                Copy(bit);
            }
        }

        DirtyLog.Disable(d);
        Assert.True(dirtyRounds >= 20, $"the guest dirtied pages in only {dirtyRounds} of 40 rounds");
        var region = (int)((GuestProgram.CodeBase + 0x40000 - PvLayout.RamBase) / 4096);
        var counter = *(ulong*)memory.Frame(memory.FrameOfDirtyBit(region), forWrite: false);
        Assert.True(counter > RegionPages * 10, $"the guest stored only {counter} times");
        for (var bit = 0; bit < pages; bit++)
        {
            var actual = new ReadOnlySpan<byte>(memory.Frame(memory.FrameOfDirtyBit(bit), forWrite: false), 4096);
            Assert.True(actual.SequenceEqual(shadow.AsSpan(bit * 4096, 4096)), $"page {bit} changed without a mark in the log");
        }

        if (engine == HartEngine.Translate)
        {
            Assert.True(d.Vcpus[0].Hart.Statistics.BlocksTranslated > 0, "nothing was translated");
        }
    }

    [Fact]
    public void CleaningWithTheLogOffIsRefused()
    {
        using var hv = new HypervisorFixture();
        var d = hv.Boot(Writer(), memoryKiB: MemoryKiB, start: false);
        Assert.Throws<InvalidOperationException>(() => DirtyLog.Clean(hv.Hypervisor, d));
    }
}
