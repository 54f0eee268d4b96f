using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Kernel.Core.Ipc.Grants;

namespace Disagg.Kernel.Core.Tests;

public sealed unsafe class GrantCopyTests : IDisposable
{
    private const int Guest = 5;
    private const int Backend = 1;
    private const int Stranger = 7;
    private const ulong GuestRam = 0x80000; // guest frames 0x80000..0x8000f
    private const ulong TableFrame = 0x8000f;

    private readonly NativeFrames _guestMem = new(GuestRam, 16);
    private readonly NativeFrames _backendMem = new(0, 4);
    private readonly NativeFrames _strangerMem = new(0, 1);
    private readonly GrantDomain _guest;
    private readonly GrantDomain _backend;
    private readonly GrantDomain _stranger;
    private readonly GrantCopier _copier;

    public GrantCopyTests()
    {
        var table = new GrantTable(Guest, [_guestMem.Page(TableFrame)]);
        _guest = new GrantDomain(Guest, table, _guestMem);
        _backend = new GrantDomain(Backend, null, _backendMem);
        _stranger = new GrantDomain(Stranger, null, _strangerMem);
        var all = new Dictionary<int, GrantDomain> { [Guest] = _guest, [Backend] = _backend, [Stranger] = _stranger };
        _copier = new GrantCopier(id => all.GetValueOrDefault(id));
    }

    public void Dispose()
    {
        _guestMem.Dispose();
        _backendMem.Dispose();
        _strangerMem.Dispose();
    }

    private ref GrantEntryV1 Entry(uint gref) => ref ((GrantEntryV1*)_guestMem.Page(TableFrame))[gref];

    private void Grant(uint gref, int to, ulong frame, bool readOnly = false)
    {
        ref var e = ref Entry(gref);
        e.DomId = (ushort)to;
        e.Frame = (uint)frame;
        e.Flags = (ushort)(GrantFlags.PermitAccess | (readOnly ? GrantFlags.ReadOnly : 0));
    }

    private static GrantCopy FromGrant(uint gref, ushort srcOffset, ulong dstFrame, ushort dstOffset, ushort len) => new()
    {
        Source = new GrantCopyPtr { RefOrFrame = gref, DomId = Guest, Offset = srcOffset },
        Dest = new GrantCopyPtr { RefOrFrame = dstFrame, DomId = DomainIds.Self, Offset = dstOffset },
        Len = len,
        Flags = GrantCopy.SourceGref,
    };

    private static GrantCopy ToGrant(ulong srcFrame, uint gref, ushort len) => new()
    {
        Source = new GrantCopyPtr { RefOrFrame = srcFrame, DomId = DomainIds.Self },
        Dest = new GrantCopyPtr { RefOrFrame = gref, DomId = Guest },
        Len = len,
        Flags = GrantCopy.DestGref,
    };

    [Fact]
    public void BackendCopiesOutOfAGrantedPageAndFlagsAreClearedAfter()
    {
        Grant(8, Backend, GuestRam + 2, readOnly: true);
        _guestMem.Bytes(GuestRam + 2)[100..200].Fill(0xAB);
        var op = FromGrant(8, 100, 1, 10, 100);
        Assert.Equal(GrantStatus.Okay, _copier.Copy(_backend, ref op));
        Assert.True(_backendMem.Bytes(1)[10..110].ToArray().All(b => b == 0xAB));
        Assert.Equal(0, _backendMem.Bytes(1)[110]);
        Assert.Equal((ushort)(GrantFlags.PermitAccess | GrantFlags.ReadOnly), Entry(8).Flags);
    }

    [Fact]
    public void BackendCopiesIntoAWritableGrantButNotAReadOnlyOne()
    {
        Grant(9, Backend, GuestRam + 3);
        Grant(10, Backend, GuestRam + 4, readOnly: true);
        _backendMem.Bytes(2).Fill(0x5A);
        var ok = ToGrant(2, 9, 4096);
        var ro = ToGrant(2, 10, 16);
        Assert.Equal(GrantStatus.Okay, _copier.Copy(_backend, ref ok));
        Assert.Equal(GrantStatus.PermissionDenied, _copier.Copy(_backend, ref ro));
        Assert.True(_guestMem.Bytes(GuestRam + 3).ToArray().All(b => b == 0x5A));
        Assert.True(_guestMem.Bytes(GuestRam + 4).ToArray().All(b => b == 0));
    }

    [Fact]
    public void AGrantForOneDomainIsUselessToAnother()
    {
        Grant(8, Backend, GuestRam + 2);
        var op = FromGrant(8, 0, 0, 0, 64);
        Assert.Equal(GrantStatus.PermissionDenied, _copier.Copy(_stranger, ref op));
        var write = ToGrant(0, 8, 64);
        Assert.Equal(GrantStatus.PermissionDenied, _copier.Copy(_stranger, ref write));
    }

    [Fact]
    public void RawFramesAreOnlyTheCallersOwn()
    {
        // A backend naming a guest frame directly (no grant) must get nothing.
        var op = new GrantCopy
        {
            Source = new GrantCopyPtr { RefOrFrame = GuestRam + 2, DomId = Guest },
            Dest = new GrantCopyPtr { RefOrFrame = 0, DomId = DomainIds.Self },
            Len = 8,
        };
        Assert.Equal(GrantStatus.PermissionDenied, _copier.Copy(_backend, ref op));
    }

    [Theory]
    [InlineData(4097, 0, 0, (ushort)GrantCopy.SourceGref, GrantStatus.BadCopyArg)]
    [InlineData(100, 4000, 0, (ushort)GrantCopy.SourceGref, GrantStatus.BadCopyArg)]
    [InlineData(100, 0, 4000, (ushort)GrantCopy.SourceGref, GrantStatus.BadCopyArg)]
    [InlineData(8, 0, 0, (ushort)0x80, GrantStatus.BadCopyArg)]
    public void CopiesThatWouldCrossAPageAreRefused(int len, int srcOffset, int dstOffset, ushort flags, GrantStatus expected)
    {
        Grant(8, Backend, GuestRam + 2);
        var op = FromGrant(8, (ushort)srcOffset, 0, (ushort)dstOffset, (ushort)len);
        op.Flags = flags;
        Assert.Equal(expected, _copier.Copy(_backend, ref op));
    }

    [Fact]
    public void BadRefsDomainsAndFramesGetTheirOwnStatus()
    {
        var badRef = FromGrant(512, 0, 0, 0, 8); // table has one frame: refs 0..511
        Assert.Equal(GrantStatus.BadGntref, _copier.Copy(_backend, ref badRef));
        var hugeRef = FromGrant(0, 0, 0, 0, 8);
        hugeRef.Source.RefOrFrame = 1UL << 40;
        Assert.Equal(GrantStatus.BadGntref, _copier.Copy(_backend, ref hugeRef));

        var badDomain = FromGrant(8, 0, 0, 0, 8);
        badDomain.Source.DomId = 99;
        Assert.Equal(GrantStatus.BadDomain, _copier.Copy(_backend, ref badDomain));

        Grant(11, Backend, 0x1234); // the guest grants a frame it does not have
        var badPage = FromGrant(11, 0, 0, 0, 8);
        Assert.Equal(GrantStatus.BadPage, _copier.Copy(_backend, ref badPage));
        Assert.Equal((ushort)GrantFlags.PermitAccess, Entry(11).Flags); // pin released

        Grant(12, Backend, GuestRam);
        var badOwnFrame = FromGrant(12, 0, 99, 0, 8);
        Assert.Equal(GrantStatus.BadPage, _copier.Copy(_backend, ref badOwnFrame));
        Assert.Equal((ushort)GrantFlags.PermitAccess, Entry(12).Flags);
    }

    [Fact]
    public void RevokedOrTransferGrantsAreDenied()
    {
        Grant(8, Backend, GuestRam + 2);
        Entry(8).Flags = (ushort)GrantFlags.Invalid;
        var op = FromGrant(8, 0, 0, 0, 8);
        Assert.Equal(GrantStatus.PermissionDenied, _copier.Copy(_backend, ref op));
        Entry(8).Flags = (ushort)GrantFlags.AcceptTransfer;
        Assert.Equal(GrantStatus.PermissionDenied, _copier.Copy(_backend, ref op));
    }

    [Fact]
    public void ABatchReportsEachOpAndBadOnesDoNotStopGoodOnes()
    {
        Grant(8, Backend, GuestRam + 2);
        _guestMem.Bytes(GuestRam + 2)[0] = 42;
        Span<GrantCopy> ops = [FromGrant(8, 0, 0, 0, 1), FromGrant(9, 0, 0, 1, 1), FromGrant(8, 0, 0, 2, 1)];
        _copier.CopyBatch(_backend, ops);
        Assert.Equal([(short)GrantStatus.Okay, (short)GrantStatus.PermissionDenied, (short)GrantStatus.Okay], ops.ToArray().Select(o => o.Status));
        Assert.Equal([42, 0, 42], _backendMem.Bytes(0)[..3].ToArray());
    }

    [Fact]
    public void InUseFlagIsSetWhilePinnedAndClearedWhenTheLastPinGoes()
    {
        Grant(8, Backend, GuestRam + 2);
        var table = _guest.Table!;
        Assert.Equal(GrantStatus.Okay, table.TryAcquire(8, Backend, write: true, out var frame));
        Assert.Equal(GuestRam + 2, frame);
        Assert.Equal(GrantStatus.Okay, table.TryAcquire(8, Backend, write: true, out _));
        Assert.NotEqual(0, Entry(8).Flags & (ushort)GrantFlags.Writing);
        table.Release(8, write: true);
        Assert.NotEqual(0, Entry(8).Flags & (ushort)GrantFlags.Writing);
        table.Release(8, write: true);
        Assert.Equal((ushort)GrantFlags.PermitAccess, Entry(8).Flags);
    }

    [Fact]
    public void ConcurrentCopiesOfOneGrantLeaveItClean()
    {
        Grant(8, Backend, GuestRam + 2);
        Parallel.For(0, 4, t =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                var op = FromGrant(8, 0, (ulong)t, 0, 64);
                Assert.Equal(GrantStatus.Okay, _copier.Copy(_backend, ref op));
            }
        });
        Assert.Equal((ushort)GrantFlags.PermitAccess, Entry(8).Flags);
    }
}
