using static Disagg.Kernel.Cpu.Tests.Asm;

namespace Disagg.Kernel.Cpu.Tests;

public class MmuTests
{
    private const ulong V = 1, R = 2, W = 4, X = 8, U = 16, A = 64, D = 128;
    private const ulong Root = TestMachine.Base + 0x20000;
    private const ulong Mid = TestMachine.Base + 0x21000;
    private const ulong Leaf = TestMachine.Base + 0x22000;
    private const ulong UserVa = 0x4000_0000;
    private const uint Sstatus = 0x100;
    private const uint Satp = 0x180;

    private static ulong Pte(ulong pa, ulong flags) => ((pa >> 12) << 10) | flags;

    /// <summary>Sv39: identity gigapage over RAM for the kernel, and UserVa -> Data as a 4 KiB user page.</summary>
    private static void BuildSv39(TestMachine m, ulong userFlags)
    {
        void Put(ulong table, ulong index, ulong pte) => BitConverter.TryWriteBytes(m.Ram.Span(table + (index * 8), 8), pte);
        Put(Root, 2, Pte(0x8000_0000, V | R | W | X | A | D));
        Put(Root, 1, Pte(Mid, V));
        Put(Mid, 0, Pte(Leaf, V));
        Put(Leaf, 0, Pte(TestMachine.Data, userFlags));
        m.Hart.SetX(5, (8UL << 60) | (Root >> 12));
        m.Hart.SetX(6, UserVa);
    }

    [Fact]
    public void SupervisorLoadFromUserPageFaultsWithoutSum()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Csrw(Satp, 5), SfenceVma, Ld(7, 6, 8));
        BuildSv39(m, V | R | W | U);
        var s = m.RunToTrap(13);
        Assert.Equal(UserVa + 8, s.Stval);
        Assert.Equal(TestMachine.Base + 8, s.Sepc);
    }

    [Fact]
    public void SumAllowsTheAccessAndTheWalkerSetsAccessedAndDirty()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Csrw(Satp, 5), Csrrs(0, Sstatus, 8), Ld(7, 6, 0), Sd(9, 6, 0), Ecall);
        BuildSv39(m, V | R | W | U);
        m.Hart.SetX(8, 1UL << 18);
        m.Hart.SetX(9, 1234);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(1234UL, m.ReadU64(TestMachine.Data));
        var pte = m.ReadU64(Leaf);
        Assert.Equal(A | D, pte & (A | D));
    }

    [Fact]
    public void StoreToReadOnlyPageIsAStorePageFault()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Csrw(Satp, 5), Csrrs(0, Sstatus, 8), Ld(7, 6, 0), Sd(7, 6, 0));
        BuildSv39(m, V | R | U | A);
        m.Hart.SetX(8, 1UL << 18);
        var s = m.RunToTrap(15);
        Assert.Equal(UserVa, s.Stval);
        Assert.Equal(0UL, m.ReadU64(Leaf) & D);
    }

    [Fact]
    public void NonCanonicalSv39AddressFaults()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Csrw(Satp, 5), Ld(7, 8, 0));
        BuildSv39(m, V | R | W | U);
        m.Hart.SetX(8, 0x0000_0040_0000_0000);
        Assert.Equal(0x0000_0040_0000_0000UL, m.RunToTrap(13).Stval);
    }

    [Fact]
    public void UserModeRunsOnlyOnUserPagesAndEcallTrapsToTheGuest()
    {
        // sret to U-mode at UserVa where the user page holds an ecall: scause 8, not an SBI exit.
        using var m = new TestMachine(IsaWidth.Rv64, Csrw(Satp, 5), Csrw(0x141, 6), Sret);
        BuildSv39(m, V | R | X | U);
        m.Load(TestMachine.Data, Ecall);
        var s = m.RunToTrap(8);
        Assert.Equal(UserVa, s.Sepc);
        Assert.Equal(Privilege.Supervisor, m.Hart.Privilege);
        Assert.Equal(0UL, s.Sstatus & 0x100); // SPP = U
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RemoteFlushRequestMakesTheHartSeeAChangedPageTable(bool tlbOnly)
    {
        using var m = new TestMachine(IsaWidth.Rv64, Csrw(Satp, 5), Csrrs(0, Sstatus, 8), Ld(7, 6, 0), Ecall, Ld(7, 6, 0), Ecall, Ld(7, 6, 0), Ecall);
        BuildSv39(m, V | R | W | U | A | D);
        // Use leaf 1 (virtual page 0x40001): TLB index 1, clear of the code page's index 0.
        BitConverter.TryWriteBytes(m.Ram.Span(Leaf + 8, 8), Pte(TestMachine.Data, V | R | W | U | A | D));
        m.Hart.SetX(6, UserVa + 0x1000);
        m.Hart.SetX(8, 1UL << 18);
        m.Load(TestMachine.Data, 111);
        m.Load(TestMachine.Data + 0x1000, 222);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(111UL, m.X(7));

        BitConverter.TryWriteBytes(m.Ram.Span(Leaf + 8, 8), Pte(TestMachine.Data + 0x1000, V | R | W | U | A | D));
        m.Hart.CompleteSbiCall(0, 0);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(111UL, m.X(7)); // no SFENCE.VMA: the cached translation still holds

        // SBI remote_sfence_vma asks for the TLB alone (decoded code is keyed by physical frame), remote_fence_i for both.
        var pages = m.Hart.Statistics.PagesDecoded;
        var other = new Thread(tlbOnly ? m.Hart.RequestTlbFlush : m.Hart.RequestTranslationFlush);
        other.Start();
        other.Join();
        m.Hart.CompleteSbiCall(0, 0);
        Assert.Equal(ExitReason.Kicked, m.Hart.Run(1000));
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(222UL, m.X(7));
        if (tlbOnly)
        {
            Assert.Equal(pages, m.Hart.Statistics.PagesDecoded);
        }
        else
        {
            Assert.True(m.Hart.Statistics.PagesDecoded > pages);
        }
    }

    [Fact]
    public void Sv32MegapageAndFourKilobytePageTranslate()
    {
        using var m = new TestMachine(IsaWidth.Rv32, Csrw(Satp, 5), Csrrs(0, Sstatus, 8), Lw(7, 6, 4), Ecall);
        void Put(ulong table, ulong index, ulong pte) => BitConverter.TryWriteBytes(m.Ram.Span(table + (index * 4), 4), (uint)pte);
        Put(Root, 0x200, Pte(0x8000_0000, V | R | W | X | A | D));
        Put(Root, 0x100, Pte(Leaf, V));
        Put(Leaf, 0, Pte(TestMachine.Data, V | R | U));
        m.Load(TestMachine.Data + 4, 0xDEAD_BEEF);
        m.Hart.SetX(5, (1UL << 31) | (Root >> 12));
        m.Hart.SetX(6, UserVa);
        m.Hart.SetX(8, 1UL << 18);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(0xFFFF_FFFF_DEAD_BEEF, m.X(7));
        Assert.Equal(A, BitConverter.ToUInt32(m.Ram.Span(Leaf, 4)) & A);
    }
}
