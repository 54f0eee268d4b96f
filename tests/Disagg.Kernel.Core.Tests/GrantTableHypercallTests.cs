using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Hypercalls;
using Disagg.Kernel.Core.Ipc.Grants;

namespace Disagg.Kernel.Core.Tests;

public sealed unsafe class GrantTableHypercallTests : IDisposable
{
    private const ulong Ram = 0x8000_0000;
    private const ulong Arg = Ram + 0x100;
    private const ulong FrameList = Ram + 0x800;
    private readonly NativeFrames _granterMem = new(0x100, 4);
    private readonly NativeFrames _callerMem = new(0x200, 4);
    private readonly GrantDomain _granter;
    private readonly GrantDomain _caller;
    private readonly GrantCopier _copier;
    private readonly Frames _frames = new();
    private readonly ArrayGuestMemory _mem = new(Ram, 1 << 20, holeStart: Ram + (1 << 19), holeEnd: Ram + (1 << 20));

    public GrantTableHypercallTests()
    {
        _granter = new GrantDomain(4, new GrantTable(4, [_granterMem.Page(0x103)]), _granterMem);
        _caller = new GrantDomain(6, null, _callerMem);
        _copier = new GrantCopier(id => id == 4 ? _granter : id == 6 ? _caller : null);
    }

    public void Dispose()
    {
        _granterMem.Dispose();
        _callerMem.Dispose();
    }

    private long Call(GrantTableOp op, uint count = 1, ulong arg = Arg) => GrantTableHypercall.Handle(_copier, _caller, _frames, _mem, (uint)op, arg, count);

    private sealed class Frames : IGrantFrameProvider
    {
        public int CurrentFrames { get; private set; } = 1;

        public int MaxFrames => 4;

        public bool TryGrow(int frames)
        {
            CurrentFrames = Math.Max(CurrentFrames, frames);
            return frames <= MaxFrames;
        }

        public ulong GuestFrame(int index) => 0x7FF10 + (ulong)index;
    }

    [Fact]
    public void CopyBatchesLongerThanAChunkAllGetTheirStatus()
    {
        var entries = (GrantEntryV1*)_granterMem.Page(0x103);
        entries[8] = new GrantEntryV1 { DomId = 6, Frame = 0x101, Flags = (ushort)GrantFlags.PermitAccess };
        _granterMem.Bytes(0x101).Fill(7);
        const int n = 40;
        for (var i = 0; i < n; i++)
        {
            var op = new GrantCopy
            {
                Source = new GrantCopyPtr { RefOrFrame = i % 5 == 0 ? 9u : 8u, DomId = 4, Offset = (ushort)i },
                Dest = new GrantCopyPtr { RefOrFrame = 0x200, DomId = DomainIds.Self, Offset = (ushort)i },
                Len = 1,
                Flags = GrantCopy.SourceGref,
            };
            Assert.True(_mem.TryWrite(Arg + (ulong)(i * 40), op));
        }

        Assert.Equal(0, Call(GrantTableOp.Copy, n));
        for (var i = 0; i < n; i++)
        {
            Assert.True(_mem.TryRead(Arg + (ulong)(i * 40), out GrantCopy done));
            Assert.Equal(i % 5 == 0 ? (short)GrantStatus.PermissionDenied : (short)GrantStatus.Okay, done.Status);
            Assert.Equal(i % 5 == 0 ? 0 : 7, _callerMem.Bytes(0x200)[i]);
        }
    }

    [Fact]
    public void SetupTableReportsItsFramesAndQuerySizeAgrees()
    {
        Assert.True(_mem.TryWrite(Arg, new GrantSetupTable { Dom = DomainIds.Self, NrFrames = 3, FrameList = FrameList }));
        Assert.Equal(0, Call(GrantTableOp.SetupTable));
        Assert.True(_mem.TryRead(Arg, out GrantSetupTable st));
        Assert.Equal((short)GrantStatus.Okay, st.Status);
        Assert.True(_mem.TryRead(FrameList + 16, out ulong third));
        Assert.Equal(0x7FF12UL, third);

        Assert.True(_mem.TryWrite(Arg, new GrantQuerySize { Dom = DomainIds.Self }));
        Assert.Equal(0, Call(GrantTableOp.QuerySize));
        Assert.True(_mem.TryRead(Arg, out GrantQuerySize q));
        Assert.Equal((3u, 4u, (short)0), (q.NrFrames, q.MaxNrFrames, q.Status));
    }

    [Fact]
    public void SetupTableRefusesOtherDomainsAndOversizedTables()
    {
        Assert.True(_mem.TryWrite(Arg, new GrantSetupTable { Dom = 4, NrFrames = 1, FrameList = FrameList }));
        Assert.Equal(0, Call(GrantTableOp.SetupTable));
        Assert.True(_mem.TryRead(Arg, out GrantSetupTable st));
        Assert.Equal((short)GrantStatus.PermissionDenied, st.Status);
        Assert.True(_mem.TryWrite(Arg, new GrantSetupTable { Dom = DomainIds.Self, NrFrames = uint.MaxValue, FrameList = FrameList }));
        Assert.Equal(0, Call(GrantTableOp.SetupTable));
        Assert.True(_mem.TryRead(Arg, out st));
        Assert.Equal((short)GrantStatus.GeneralError, st.Status);
        Assert.True(_mem.TryWrite(Arg, new GrantSetupTable { Dom = DomainIds.Self, NrFrames = 2, FrameList = Ram + (1 << 19) }));
        Assert.Equal(-(long)XenErrno.EFAULT, Call(GrantTableOp.SetupTable));
    }

    [Fact]
    public void OnlyVersionOneExists()
    {
        Assert.True(_mem.TryWrite(Arg, 1u));
        Assert.Equal(0, Call(GrantTableOp.SetVersion));
        Assert.True(_mem.TryWrite(Arg, 2u));
        Assert.Equal(-(long)XenErrno.EINVAL, Call(GrantTableOp.SetVersion));
        Assert.Equal(0, Call(GrantTableOp.GetVersion));
        Assert.True(_mem.TryRead(Arg + 4, out uint v));
        Assert.Equal(1u, v);
    }

    [Fact]
    public void HostileCountsPointersAndCommands()
    {
        Assert.Equal(-(long)XenErrno.E2BIG, Call(GrantTableOp.Copy, uint.MaxValue));
        Assert.Equal(-(long)XenErrno.EFAULT, Call(GrantTableOp.Copy, 2, Ram + (1 << 19) - 40));
        Assert.Equal(-(long)XenErrno.EFAULT, Call(GrantTableOp.Copy, 1, 0));
        Assert.Equal(0, Call(GrantTableOp.Copy, 0, 0)); // nothing to do, nothing read
        Assert.Equal(-(long)XenErrno.EINVAL, Call(GrantTableOp.SetupTable, 2));
        Assert.Equal(-(long)XenErrno.EINVAL, Call(GrantTableOp.QuerySize, 0));
        Assert.Equal(-(long)XenErrno.ENOSYS, Call(GrantTableOp.MapGrantRef));
        Assert.Equal(-(long)XenErrno.ENOSYS, Call((GrantTableOp)77));
        var rng = new Random(5);
        var junk = new byte[40 * 8];
        for (var i = 0; i < 5000; i++)
        {
            rng.NextBytes(junk);
            _mem.TryCopyToGuest(Arg, junk);
            var rc = Call((GrantTableOp)rng.Next(0, 12), (uint)rng.Next(0, 9));
            Assert.True(rc <= 0 && rc >= -38, $"unexpected {rc}");
        }
    }
}
