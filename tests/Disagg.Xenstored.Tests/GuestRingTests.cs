using Disagg.Abi.Io;

namespace Disagg.Xenstored.Tests;

/// <summary>Guests on their ring pages against the real xenstored: isolation, quotas, hostile indices, restarts.</summary>
public sealed class GuestRingTests : IDisposable
{
    private readonly XenstoredProcess _xs = new("--entries", "8", "--watches", "3", "--transactions", "2", "--node-size", "100", "--transaction-nodes", "4");
    private readonly XsClient _dom0;

    public GuestRingTests()
    {
        _dom0 = _xs.Connect();
    }

    public void Dispose()
    {
        _dom0.Dispose();
        _xs.Dispose();
    }

    [Fact]
    public void GuestUsesRelativePathsInItsOwnDirectoryAndCannotSeeOthers()
    {
        using var g5 = Introduce(5);
        using var g6 = Introduce(6);
        g5.Write("data/x", "five").Expect(XsMessageType.Write);
        Assert.Equal("five", g5.Call(XsMessageType.Read, "data/x").Expect(XsMessageType.Read).Text);
        Assert.Equal("five", _dom0.Read("/local/domain/5/data/x"));
        Assert.Equal(["n5"], _dom0.Call(XsMessageType.GetPerms, "/local/domain/5/data/x").Strings); // inherited, and the guest owns it
        g6.Call(XsMessageType.Read, "/local/domain/5/data/x").ExpectError("EACCES");
        g6.Write("/local/domain/5/data/x", "evil").ExpectError("EACCES");
        g6.Call(XsMessageType.Read, "/local/domain/5/data/none").ExpectError("EACCES"); // does not learn what exists
        g5.Call(XsMessageType.Read, "/tool").ExpectError("EACCES");
        g5.Write("/tool/x", "1").ExpectError("EACCES");
        g5.Call(XsMessageType.Introduce, "9", "1", "1").ExpectError("EACCES");
        g5.Call(XsMessageType.Control, "check").ExpectError("EACCES");

        // Sharing: 5 lets 6 read one node, and only read.
        g5.Write("data/shared", "s").Expect(XsMessageType.Write);
        g5.Call(XsMessageType.SetPerms, "data/shared", "n5", "r6").Expect(XsMessageType.SetPerms);
        Assert.Equal("s", g6.Call(XsMessageType.Read, "/local/domain/5/data/shared").Text);
        g6.Write("/local/domain/5/data/shared", "no").ExpectError("EACCES");
        g5.Call(XsMessageType.SetPerms, "data/shared", "n6").ExpectError("EPERM"); // may not give it away
        g6.Call(XsMessageType.SetPerms, "/local/domain/5/data/shared", "b6").ExpectError("EACCES");
    }

    [Fact]
    public void QuotasLimitAGuestAndNotDom0()
    {
        using var g = Introduce(7);
        // Two nodes exist already (its directory, owned by 7, counts 1). Create up to 8.
        var created = 0;
        XsReply r;
        while ((r = g.Write("q" + created, "v")).Type == XsMessageType.Write)
        {
            created++;
            Assert.True(created < 20, "entries quota never hit");
        }

        r.ExpectError("ENOSPC");
        Assert.Equal(7, created);
        g.Write("q0", new string('x', 101)).ExpectError("ENOSPC");
        g.Write("q0", new string('x', 50)).Expect(XsMessageType.Write);

        for (var i = 0; i < 3; i++)
        {
            g.Call(XsMessageType.Watch, "q0", "t" + i).Expect(XsMessageType.Watch);
        }

        g.Call(XsMessageType.Watch, "q0", "t-over").ExpectError("E2BIG");
        g.Call(XsMessageType.TransactionStart, "").Expect(XsMessageType.TransactionStart);
        g.Call(XsMessageType.TransactionStart, "").Expect(XsMessageType.TransactionStart);
        g.Call(XsMessageType.TransactionStart, "").ExpectError("ENOSPC");

        for (var i = 0; i < 20; i++)
        {
            _dom0.Write("/local/domain/7/dom0-" + i, new string('y', 500)); // dom0 is not bound by guest quotas
        }
    }

    [Fact]
    public void ATransactionMayTouchOnlySoManyNodesAndStillEnds()
    {
        using var g = Introduce(10);
        var tx = uint.Parse(g.Call(XsMessageType.TransactionStart, "").Expect(XsMessageType.TransactionStart).Text.TrimEnd('\0'), System.Globalization.CultureInfo.InvariantCulture);
        // A read looks at the node and, to tell ENOENT from EACCES, its parent: absent nodes count too.
        var reads = 0;
        XsReply r;
        while ((r = g.CallTx(tx, XsMessageType.Read, "n" + reads)).Type == XsMessageType.Error && r.Text.StartsWith("ENOENT", StringComparison.Ordinal))
        {
            reads++;
            Assert.True(reads < 4, "the transaction node limit was never reached");
        }

        r.ExpectError("ENOSPC");
        Assert.True(reads >= 1);
        g.CallTx(tx, XsMessageType.TransactionEnd, "F").Expect(XsMessageType.TransactionEnd);
        g.Write("n4", "outside a transaction, no limit").Expect(XsMessageType.Write);
        var dom0Tx = _dom0.StartTransaction();
        for (var i = 0; i < 10; i++)
        {
            _dom0.CallTx(dom0Tx, XsMessageType.Read, "/local/domain/10/m" + i).ExpectError("ENOENT"); // dom0 is not bound
        }
    }

    [Fact]
    public void PartialAndWrappingMessagesAreReassembled()
    {
        using var g = Introduce(8);
        var header = new byte[16];
        var payload = XsClient.Args("data");
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)XsMessageType.Mkdir);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 77);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), (uint)payload.Length);
        g.WriteRaw(header.AsSpan(0, 10));
        Thread.Sleep(50);
        g.WriteRaw(header.AsSpan(10));
        Thread.Sleep(50);
        g.WriteRaw(payload);
        var r = g.ReadMessage();
        Assert.True(r.Type == XsMessageType.Mkdir && r.ReqId == 77, $"{r.Type} {r.ReqId} '{r.Text}'");
        // Many requests of odd sizes: both rings wrap many times.
        for (var i = 0; i < 60; i++)
        {
            var value = new string((char)('a' + (i % 26)), 20 + (i * 13 % 70));
            g.Write("data", value).Expect(XsMessageType.Write);
            Assert.Equal(value, g.Call(XsMessageType.Read, "data").Text);
        }
    }

    [Fact]
    public void LyingIndicesEndServiceForThatGuestOnly()
    {
        using var g = Introduce(9);
        g.Write("ok", "1").Expect(XsMessageType.Write);
        g[2052] = g[2048] + 5000; // req_prod far beyond req_cons + 1024
        g.Kick();
        var deadline = Environment.TickCount64 + 5000;
        while (g[2072] == 0 && Environment.TickCount64 < deadline)
        {
            g.WaitForNotify(50);
        }

        Assert.Equal((uint)XenstoreRingError.RingIndex, g[2072]);
        Assert.Equal("1", _dom0.Read("/local/domain/9/ok")); // everyone else is still served
        using var other = Introduce(10);
        other.Write("fine", "yes").Expect(XsMessageType.Write);
    }

    [Fact]
    public void OversizedLengthOnTheRingIsAProtocolError()
    {
        using var g = Introduce(11);
        var header = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)XsMessageType.Write);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), 5000);
        g.WriteRaw(header);
        var deadline = Environment.TickCount64 + 5000;
        while (g[2072] == 0 && Environment.TickCount64 < deadline)
        {
            g.WaitForNotify(50);
        }

        Assert.Equal((uint)XenstoreRingError.Protocol, g[2072]);
        Assert.Equal("", _dom0.Read("/tool"));
    }

    [Fact]
    public void GuestWatchesAndRingSurviveSigkillAndOpenTransactionsGetEagain()
    {
        using var g = Introduce(12);
        g.Call(XsMessageType.Watch, "data", "gw").Expect(XsMessageType.Watch);
        Assert.Equal(["data", "gw"], g.NextEvent().Strings);
        var tx = uint.Parse(g.Call(XsMessageType.TransactionStart, "").Text.TrimEnd('\0'), System.Globalization.CultureInfo.InvariantCulture);

        _xs.Restart(); // SIGKILL, then start on the same state directory
        g.HandTo(_xs.HandoffPath); // the kernel re-maps every live domain's ring for the new process
        using var dom0 = _xs.Connect();
        dom0.Write("/local/domain/12/data/after", "1");
        Assert.Equal(["data/after", "gw"], g.NextEvent().Strings); // relative, as registered
        g.CallTx(tx, XsMessageType.TransactionEnd, "T").ExpectError("EAGAIN");
        Assert.Equal("T\0", dom0.Call(XsMessageType.IsDomainIntroduced, "12").Text);
    }

    [Fact]
    public void ReleasedGuestIsNoLongerServedAndItsWatchesAreGone()
    {
        using var g = Introduce(13);
        g.Call(XsMessageType.Watch, "/local/domain/13", "x").Expect(XsMessageType.Watch);
        g.NextEvent();
        _dom0.Call(XsMessageType.Release, "13").Expect(XsMessageType.Release);
        Assert.Equal("F\0", _dom0.Call(XsMessageType.IsDomainIntroduced, "13").Text);
        Assert.Equal("OK\0", _dom0.Call(XsMessageType.Control, "check").Text);
        Assert.Contains("watches 0", _dom0.Call(XsMessageType.Control, "status").Text, StringComparison.Ordinal);
    }

    /// <summary>What the toolstack does for a new guest: its directory owned by it, then XS_INTRODUCE, then the ring.</summary>
    private GuestRing Introduce(uint domid)
    {
        var dir = "/local/domain/" + domid;
        _dom0.Call(XsMessageType.Mkdir, dir).Expect(XsMessageType.Mkdir);
        _dom0.Call(XsMessageType.SetPerms, dir, "n" + domid).Expect(XsMessageType.SetPerms);
        var ring = new GuestRing(domid);
        ring.HandTo(_xs.HandoffPath);
        _dom0.Call(XsMessageType.Introduce, domid.ToString(System.Globalization.CultureInfo.InvariantCulture), "1234", "5").Expect(XsMessageType.Introduce);
        return ring;
    }
}
