using System.Buffers.Binary;
using System.Text;
using Disagg.Abi.Io;

namespace Disagg.Xenstored.Tests;

/// <summary>Every message type's semantics over the real socket of a real xenstored.</summary>
public sealed class SocketProtocolTests : IDisposable
{
    private readonly XenstoredProcess _xs = new();
    private readonly XsClient _c;

    public SocketProtocolTests()
    {
        _c = _xs.Connect();
    }

    public void Dispose()
    {
        _c.Dispose();
        _xs.Dispose();
    }

    [Fact]
    public void WriteCreatesParentsAndReadReturnsValueWithoutNul()
    {
        _c.Write("/a/b/c", "v1");
        Assert.Equal("v1", _c.Read("/a/b/c"));
        Assert.Equal("", _c.Read("/a/b"));
        Assert.Equal(["b"], _c.Call(XsMessageType.Directory, "/a").Expect(XsMessageType.Directory).Strings);
        Assert.Equal(["tool", "a"], _c.Call(XsMessageType.Directory, "/").Strings);
    }

    [Fact]
    public async Task PipelinedRequestsFromTwoClientsAreAllAnsweredInOrder()
    {
        // Two clients each send thousands of requests without waiting: while one's thread runs the store, the
        // other's has far more than its 256 queued requests and waits for credit. Nothing may be lost or reordered,
        // and no receive thread may sleep through the credit coming back (the test would hang: bounded below).
        const int requests = 4000;
        using var other = _xs.Connect();
        var clients = new[] { _c, other };
        var readers = clients.Select((c, n) => Task.Run(() =>
        {
            var first = 0u;
            for (var i = 0; i < requests; i++)
            {
                var r = c.ReadMessage();
                Assert.Equal(XsMessageType.Write, r.Type);
                if (i == 0)
                {
                    first = r.ReqId;
                }

                Assert.Equal(first + (uint)i, r.ReqId);
            }
        })).ToArray();
        var writers = clients.Select((c, n) => Task.Run(() =>
        {
            for (var i = 0; i < requests; i++)
            {
                c.Send(XsMessageType.Write, XsClient.Args($"/pipe/c{n}", i.ToString(System.Globalization.CultureInfo.InvariantCulture)).AsSpan(..^1));
            }
        })).ToArray();
        await Task.WhenAll([.. writers, .. readers]).WaitAsync(TimeSpan.FromSeconds(120)); // a TimeoutException: not all answered
        Assert.Equal((requests - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), _c.Read("/pipe/c0"));
        Assert.Equal((requests - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), _c.Read("/pipe/c1"));
    }

    [Fact]
    public void ValuesAreRawBytesIncludingNul()
    {
        _c.Call(XsMessageType.Write, new byte[] { (byte)'/', (byte)'b', 0, 1, 0, 2, 255 }).Expect(XsMessageType.Write);
        Assert.Equal(new byte[] { 1, 0, 2, 255 }, _c.Call(XsMessageType.Read, "/b").Payload);
    }

    [Fact]
    public void MissingNodesAreEnoent()
    {
        _c.Call(XsMessageType.Read, "/nope").ExpectError("ENOENT");
        _c.Call(XsMessageType.Directory, "/nope").ExpectError("ENOENT");
        _c.Call(XsMessageType.GetPerms, "/nope").ExpectError("ENOENT");
    }

    [Fact]
    public void MkdirIsIdempotentAndRmRemovesSubtree()
    {
        _c.Call(XsMessageType.Mkdir, "/m/n").Expect(XsMessageType.Mkdir);
        _c.Call(XsMessageType.Mkdir, "/m/n").Expect(XsMessageType.Mkdir);
        _c.Write("/m/n/o", "x");
        _c.Call(XsMessageType.Rm, "/m").Expect(XsMessageType.Rm);
        _c.Call(XsMessageType.Read, "/m/n/o").ExpectError("ENOENT");
        // Removing what is gone is fine while the parent exists, ENOENT when it does not.
        _c.Call(XsMessageType.Rm, "/m").Expect(XsMessageType.Rm);
        _c.Call(XsMessageType.Rm, "/m/n/o").ExpectError("ENOENT");
        _c.Call(XsMessageType.Rm, "/").ExpectError("EINVAL");
    }

    [Fact]
    public void PermissionsRoundTripAndAreValidated()
    {
        _c.Write("/p", "");
        Assert.Equal(["n0"], _c.Call(XsMessageType.GetPerms, "/p").Strings);
        _c.Call(XsMessageType.SetPerms, "/p", "b5", "r7", "w9").Expect(XsMessageType.SetPerms);
        Assert.Equal(["b5", "r7", "w9"], _c.Call(XsMessageType.GetPerms, "/p").Strings);
        _c.Write("/p/child", "");
        Assert.Equal(["b5", "r7", "w9"], _c.Call(XsMessageType.GetPerms, "/p/child").Strings); // inherited
        _c.Call(XsMessageType.SetPerms, "/p", "x5").ExpectError("EINVAL");
        _c.Call(XsMessageType.SetPerms, "/p", "b").ExpectError("EINVAL");
        _c.Call(XsMessageType.SetPerms, "/p", "b99999").ExpectError("EINVAL");
        _c.Call(XsMessageType.SetPerms, Encoding.ASCII.GetBytes("/p\0")).ExpectError("EINVAL");
    }

    [Fact]
    public void RelativePathsOfTheSocketResolveUnderDomain0()
    {
        _c.Write("rel/x", "1");
        Assert.Equal("1", _c.Read("/local/domain/0/rel/x"));
        Assert.Equal("/local/domain/7\0", _c.Call(XsMessageType.GetDomainPath, "7").Expect(XsMessageType.GetDomainPath).Text);
        _c.Call(XsMessageType.GetDomainPath, "x7").ExpectError("EINVAL");
    }

    [Fact]
    public void BadPathsAreEinval()
    {
        foreach (var bad in new[] { "/a//b", "/a/", "/a b", "/a*", "/ä", "", "/a\nb" })
        {
            _c.Call(XsMessageType.Write, Encoding.Latin1.GetBytes(bad + "\0v")).ExpectError("EINVAL");
        }

        _c.Call(XsMessageType.Read, "/" + new string('a', 3072)).ExpectError("EINVAL");
        _c.Write("/" + new string('a', 3071), "ok"); // exactly 3072 bytes
        _c.Call(XsMessageType.Read, "/local/domain/3/" + new string('b', 2049)).ExpectError("EINVAL");
    }

    [Fact]
    public void PayloadsWithoutTheirNulAreEinval()
    {
        _c.Call(XsMessageType.Read, "/tool"u8).ExpectError("EINVAL");
        _c.Call(XsMessageType.Read, "/tool\0extra\0"u8).ExpectError("EINVAL");
        _c.Call(XsMessageType.Write, "/nonul"u8).ExpectError("EINVAL");
        _c.Call(XsMessageType.Watch, "/tool\0"u8).ExpectError("EINVAL");
        _c.Call(XsMessageType.Read, ReadOnlySpan<byte>.Empty).ExpectError("EINVAL");
    }

    [Fact]
    public void UnknownAndServerOnlyTypesAreEinvalAndTheConnectionLives()
    {
        foreach (var t in new uint[] { 15, 16, 20, 23, 999, uint.MaxValue })
        {
            _c.Call((XsMessageType)t, "/tool").ExpectError("EINVAL");
        }

        Assert.Equal("", _c.Read("/tool"));
    }

    [Fact]
    public void DirectoryPartPagesALongChildList()
    {
        var names = Enumerable.Range(0, 400).Select(i => $"child-with-a-long-name-{i:D4}").ToArray();
        foreach (var n in names)
        {
            _c.Call(XsMessageType.Mkdir, "/big/" + n).Expect(XsMessageType.Mkdir);
        }

        _c.Call(XsMessageType.Directory, "/big").ExpectError("E2BIG");
        var got = new List<string>();
        var offset = 0;
        string? generation = null;
        while (true)
        {
            var r = _c.Call(XsMessageType.DirectoryPart, "/big", offset.ToString(System.Globalization.CultureInfo.InvariantCulture)).Expect(XsMessageType.DirectoryPart);
            var text = r.Text;
            var gen = text[..text.IndexOf('\0')];
            generation ??= gen;
            Assert.Equal(generation, gen);
            var body = text[(gen.Length + 1)..];
            var done = body.EndsWith("\0\0", StringComparison.Ordinal) || body == "\0";
            var part = body.TrimEnd('\0');
            if (part.Length > 0)
            {
                var list = part.Split('\0');
                got.AddRange(list);
                offset += list.Sum(s => s.Length + 1);
            }

            if (done)
            {
                break;
            }
        }

        Assert.Equal(names, got);
    }

    [Fact]
    public void WatchFiresAtOnceThenForTheNodeAndDescendantsOnly()
    {
        _c.Call(XsMessageType.Watch, "/w", "tok").Expect(XsMessageType.Watch);
        Assert.Equal(["/w", "tok"], _c.NextEvent().Strings);
        _c.Write("/w/deep/er", "1");
        Assert.Equal(["/w/deep/er", "tok"], _c.NextEvent().Strings);
        _c.Write("/wx", "1"); // a sibling with the same prefix is not below /w
        _c.Write("/other", "1");
        Assert.True(_c.NoEventWithin(300));
        _c.Call(XsMessageType.Watch, "/w", "tok").ExpectError("EEXIST");
        _c.Call(XsMessageType.Unwatch, "/w", "tok").Expect(XsMessageType.Unwatch);
        _c.Call(XsMessageType.Unwatch, "/w", "tok").ExpectError("ENOENT");
        _c.Write("/w/again", "1");
        Assert.True(_c.NoEventWithin(300));
    }

    [Fact]
    public void RemovingAParentFiresWatchesSetBelowIt()
    {
        _c.Write("/r/a/b", "1");
        _c.Call(XsMessageType.Watch, "/r/a/b", "below").Expect(XsMessageType.Watch);
        _c.NextEvent();
        _c.Call(XsMessageType.Rm, "/r").Expect(XsMessageType.Rm);
        Assert.Equal(["/r/a/b", "below"], _c.NextEvent().Strings);
    }

    [Fact]
    public void WatchEventsReachOtherConnectionsAndDieWithTheirOwner()
    {
        using var watcher = _xs.Connect();
        watcher.Call(XsMessageType.Watch, "/shared", "t1").Expect(XsMessageType.Watch);
        watcher.NextEvent();
        _c.Write("/shared/k", "v");
        Assert.Equal(["/shared/k", "t1"], watcher.NextEvent().Strings);
        watcher.Dispose();
        _c.Write("/shared/k", "v2"); // the dead watcher's watch must not break anything
        Assert.Equal("v2", _c.Read("/shared/k"));
        Assert.Equal("F\0", _c.Call(XsMessageType.IsDomainIntroduced, "5").Text);
        Assert.Equal("T\0", _c.Call(XsMessageType.IsDomainIntroduced, "0").Text);
    }

    [Fact]
    public void TransactionsAreIsolatedAndConflictingCommitsGetEagain()
    {
        _c.Write("/t/x", "0");
        var tx = _c.StartTransaction();
        Assert.NotEqual(0u, tx);
        _c.Write("/t/x", "in-tx", tx);
        _c.Write("/t/new", "n", tx);
        Assert.Equal("in-tx", _c.CallTx(tx, XsMessageType.Read, "/t/x").Text);
        Assert.Equal("0", _c.Read("/t/x")); // not visible outside before commit
        _c.Call(XsMessageType.Read, "/t/new").ExpectError("ENOENT");
        _c.CallTx(tx, XsMessageType.TransactionEnd, "T").Expect(XsMessageType.TransactionEnd);
        Assert.Equal("in-tx", _c.Read("/t/x"));
        Assert.Equal("n", _c.Read("/t/new"));

        using var other = _xs.Connect();
        var t1 = _c.StartTransaction();
        Assert.Equal("in-tx", _c.CallTx(t1, XsMessageType.Read, "/t/x").Text);
        other.Write("/t/x", "changed-meanwhile");
        _c.Write("/t/y", "from-t1", t1);
        _c.CallTx(t1, XsMessageType.TransactionEnd, "T").ExpectError("EAGAIN");
        _c.Call(XsMessageType.Read, "/t/y").ExpectError("ENOENT");

        var t2 = _c.StartTransaction();
        _c.Write("/t/z", "aborted", t2);
        _c.CallTx(t2, XsMessageType.TransactionEnd, "F").Expect(XsMessageType.TransactionEnd);
        _c.Call(XsMessageType.Read, "/t/z").ExpectError("ENOENT");
        _c.CallTx(t2, XsMessageType.TransactionEnd, "T").ExpectError("ENOENT");
        _c.CallTx(12345, XsMessageType.Read, "/t/x").ExpectError("ENOENT");
        _c.CallTx(t2, XsMessageType.TransactionStart, "").ExpectError("EBUSY");
        var t3 = _c.StartTransaction();
        _c.CallTx(t3, XsMessageType.TransactionEnd, "X").ExpectError("EINVAL");
    }

    [Fact]
    public void WatchesFireOnCommitNotBefore()
    {
        _c.Call(XsMessageType.Watch, "/cw", "t").Expect(XsMessageType.Watch);
        _c.NextEvent();
        var tx = _c.StartTransaction();
        _c.Write("/cw/a", "1", tx);
        Assert.True(_c.NoEventWithin(200));
        _c.CallTx(tx, XsMessageType.TransactionEnd, "T").Expect(XsMessageType.TransactionEnd);
        Assert.Equal(["/cw/a", "t"], _c.NextEvent().Strings);
    }

    [Fact]
    public void IntroduceAndReleaseFireTheirSpecialWatches()
    {
        _c.Call(XsMessageType.Watch, "@introduceDomain", "i").Expect(XsMessageType.Watch);
        Assert.Equal(["@introduceDomain", "i"], _c.NextEvent().Strings);
        _c.Call(XsMessageType.Watch, "@releaseDomain", "r").Expect(XsMessageType.Watch);
        _c.NextEvent();
        _c.Call(XsMessageType.Introduce, "5", "4096", "3").Expect(XsMessageType.Introduce);
        Assert.Equal(["@introduceDomain", "i"], _c.NextEvent().Strings);
        Assert.Equal("T\0", _c.Call(XsMessageType.IsDomainIntroduced, "5").Text);
        _c.Call(XsMessageType.SetTarget, "5", "0").Expect(XsMessageType.SetTarget);
        _c.Call(XsMessageType.Resume, "5").Expect(XsMessageType.Resume);
        _c.Call(XsMessageType.Release, "5").Expect(XsMessageType.Release);
        Assert.Equal(["@releaseDomain", "r"], _c.NextEvent().Strings);
        _c.Call(XsMessageType.Release, "5").ExpectError("ENOENT");
        _c.Call(XsMessageType.Resume, "5").ExpectError("ENOENT");
        _c.Call(XsMessageType.Introduce, "0", "1", "1").ExpectError("EINVAL");
        _c.Call(XsMessageType.Introduce, "5", "1").ExpectError("EINVAL");
        _c.Call(XsMessageType.Introduce, "32752", "1", "1").ExpectError("EINVAL");
    }

    [Fact]
    public void ResetWatchesAndControlWork()
    {
        _c.Call(XsMessageType.Watch, "/rw", "t").Expect(XsMessageType.Watch);
        _c.NextEvent();
        _c.Call(XsMessageType.ResetWatches, "").Expect(XsMessageType.ResetWatches);
        _c.Write("/rw/x", "1");
        Assert.True(_c.NoEventWithin(200));
        Assert.Equal("OK\0", _c.Call(XsMessageType.Control, "check").Expect(XsMessageType.Control).Text);
        Assert.Contains("nodes", _c.Call(XsMessageType.Control, "quota").Text, StringComparison.Ordinal);
        _c.Call(XsMessageType.Control, "no-such-command").ExpectError("EINVAL");
    }

    [Fact]
    public void OversizedHeaderDropsOnlyThatClient()
    {
        using var bad = _xs.Connect();
        var header = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)XsMessageType.Write);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), 4097);
        bad.SendRaw(header);
        Assert.True(bad.IsClosedByServer(), "a 4097-byte payload header must drop the connection");
        _c.Write("/still", "served");
        Assert.Equal("served", _c.Read("/still"));
    }

    [Fact]
    public void GarbageHeadersFromOneClientDoNotStopAnother()
    {
        using var bad = _xs.Connect();
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        bad.SendRaw(garbage);
        Assert.True(bad.IsClosedByServer(), "random bytes announce lengths over 4096 sooner or later");
        for (var i = 0; i < 50; i++)
        {
            _c.Write("/g/" + i, "v");
        }

        Assert.Equal(50, _c.Call(XsMessageType.Directory, "/g").Strings.Length);
    }

    [Fact]
    public void MaximumPayloadIsAcceptedOneMoreIsNot()
    {
        var value = new string('v', 4096 - "/max\0".Length);
        _c.Write("/max", value);
        Assert.Equal(value, _c.Read("/max"));
    }

    [Fact]
    public void SigtermExitsCleanly()
    {
        _c.Write("/before-term", "1");
        Assert.Equal(0, _xs.Terminate());
        _xs.Start();
        using var again = _xs.Connect();
        Assert.Equal("1", again.Read("/before-term"));
    }
}
