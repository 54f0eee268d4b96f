using Disagg.Kernel.Cpu.Decode;

namespace Disagg.Kernel.Cpu.Tests;

/// <summary>
/// FENCE becomes a host barrier exactly where an x86 host could reorder: a store before a later load. Without
/// it a guest's ring.h final check (write rsp_event, fence rw,rw, read rsp_prod) could miss the backend's
/// response while the backend missed the new event index: a pvos blk-bench stalled after ~100 k requests.
/// </summary>
public class FenceTests
{
    // FENCE: fm[31:28] pred[27:24] succ[23:20] rs1 funct3=0 rd opcode 0x0F. Bits per set: I=8 O=4 R=2 W=1.
    private static uint Fence(uint pred, uint succ, uint fm = 0) => (fm << 28) | (pred << 24) | (succ << 20) | 0x0F;

    [Theory]
    [InlineData(3u, 3u, true)]   // fence rw,rw (mb)
    [InlineData(1u, 2u, true)]   // fence w,r
    [InlineData(15u, 15u, true)] // fence iorw,iorw
    [InlineData(2u, 2u, false)]  // fence r,r (rmb): x86 keeps loads in order
    [InlineData(1u, 1u, false)]  // fence w,w (wmb): x86 keeps stores in order
    [InlineData(2u, 3u, false)]  // fence r,rw (acquire)
    [InlineData(3u, 1u, false)]  // fence rw,w (release)
    public void OnlyAStoreBeforeLoadFenceCostsABarrier(uint pred, uint succ, bool barrier)
    {
        Assert.True(System.Runtime.Intrinsics.X86.X86Base.IsSupported, "these expectations are for an x86-64 host");
        Assert.Equal(barrier ? Op.Fence : Op.Nop, Decoder.Decode(Fence(pred, succ), rv64: true).Kind);
        Assert.Equal(barrier ? Op.Fence : Op.Nop, Decoder.Decode(Fence(pred, succ), rv64: false).Kind);
    }

    [Fact]
    public void FenceTsoLeavesStoreBeforeLoadUnordered() =>
        Assert.Equal(Op.Nop, Decoder.Decode(Fence(3, 3, fm: 0b1000), rv64: true).Kind);

    [Fact]
    public void ABarrierFenceRunsAndTheProgramGoesOn()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Asm.Addi(5, 0, 7), Fence(3, 3), Asm.Addi(6, 5, 1), Asm.Ecall);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(8UL, m.X(6));
    }
}
