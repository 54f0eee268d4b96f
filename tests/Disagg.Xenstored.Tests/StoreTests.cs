using System.Text;
using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Protocol;
using Disagg.Xenstored.Store;
using Disagg.Xenstored.Transactions;

namespace Disagg.Xenstored.Tests;

/// <summary>The store's rules in-process (no transport): paths, permissions, transactions, quotas.</summary>
public sealed class StoreTests
{
    private static readonly QuotaLimits Quota = new() { EntriesPerDomain = 5 };

    [Theory]
    [InlineData("/", "/")]
    [InlineData("/a/b-c_d@e", "/a/b-c_d@e")]
    [InlineData("rel/x", "/local/domain/3/rel/x")]
    [InlineData("/a//b", null)]
    [InlineData("/a/", null)]
    [InlineData("/a.b", null)]
    [InlineData("@introduceDomain", null)]
    public void PathsFollowXensRules(string raw, string? canonical)
    {
        Assert.Equal(canonical, XsPath.TryCanonicalize(Encoding.ASCII.GetBytes(raw), 3, allowSpecial: false));
    }

    [Fact]
    public void SpecialPathsOnlyWhereAllowed()
    {
        Assert.Equal("@releaseDomain", XsPath.TryCanonicalize("@releaseDomain"u8, 0, allowSpecial: true));
        Assert.Null(XsPath.TryCanonicalize("@"u8, 0, allowSpecial: true));
    }

    [Fact]
    public void GuestCreatesOwnedNodesWithinItsQuotaOnly()
    {
        var tree = new NodeTree();
        var dom0 = XsCaller.Dom0;
        var triggers = new List<WatchTrigger>();
        Assert.Equal(XsError.None, StoreOperations.Mkdir(tree, dom0, Quota, "/local/domain/4", triggers));
        Assert.Equal(XsError.None, StoreOperations.SetPermissions(tree, dom0, "/local/domain/4", [new(XsAccess.None, 4)], triggers));
        var guest = new XsCaller(4, false);
        Assert.Equal(XsError.None, StoreOperations.Write(tree, guest, Quota, "/local/domain/4/a/b/c", "v"u8.ToArray(), triggers));
        Assert.Equal(4, tree.EntriesOwnedBy(4)); // its directory + a, b, c
        Assert.Equal(XsError.ENOSPC, StoreOperations.Write(tree, guest, Quota, "/local/domain/4/x/y", [], triggers)); // two more: 6 > 5
        Assert.Equal(XsError.None, StoreOperations.Write(tree, guest, Quota, "/local/domain/4/x", [], triggers));
        Assert.Equal(XsError.None, StoreOperations.Remove(tree, guest, "/local/domain/4/a", triggers));
        Assert.Equal(2, tree.EntriesOwnedBy(4));
        Assert.Equal(XsError.EACCES, StoreOperations.Write(tree, new XsCaller(5, false), Quota, "/local/domain/4/z", [], triggers));
    }

    [Fact]
    public void TargetDomainActsAsItsTarget()
    {
        var tree = new NodeTree();
        var triggers = new List<WatchTrigger>();
        StoreOperations.Write(tree, XsCaller.Dom0, Quota, "/vm/4", [], triggers);
        StoreOperations.SetPermissions(tree, XsCaller.Dom0, "/vm/4", [new(XsAccess.None, 4)], triggers);
        Assert.Equal(XsError.EACCES, StoreOperations.Lookup(tree, new XsCaller(9, false), "/vm/4", XsAccess.Read, out _));
        Assert.Equal(XsError.None, StoreOperations.Lookup(tree, new XsCaller(9, false, Target: 4), "/vm/4", XsAccess.Read, out _));
    }

    [Fact]
    public void CommitConflictsOnlyWhenSomethingItTouchedChanged()
    {
        var tree = new NodeTree();
        var triggers = new List<WatchTrigger>();
        StoreOperations.Write(tree, XsCaller.Dom0, Quota, "/a/x", "1"u8.ToArray(), triggers);
        StoreOperations.Write(tree, XsCaller.Dom0, Quota, "/b/y", "1"u8.ToArray(), triggers);

        var t1 = new TransactionView(tree, 1);
        StoreOperations.Write(t1, XsCaller.Dom0, Quota, "/a/x", "t1"u8.ToArray(), t1.PendingTriggers);
        StoreOperations.Write(tree, XsCaller.Dom0, Quota, "/b/y", "outside"u8.ToArray(), triggers); // untouched by t1
        Assert.True(t1.CanCommit());
        t1.ApplyTo(tree);
        Assert.Equal("t1"u8.ToArray(), tree.Get("/a/x")!.Value);

        var t2 = new TransactionView(tree, 2);
        Assert.Equal(XsError.None, StoreOperations.Lookup(t2, XsCaller.Dom0, "/a/x", XsAccess.Read, out _));
        StoreOperations.Write(tree, XsCaller.Dom0, Quota, "/a/x", "race"u8.ToArray(), triggers);
        Assert.False(t2.CanCommit());

        // Creating a node it had seen absent conflicts too.
        var t3 = new TransactionView(tree, 3);
        Assert.Equal(XsError.ENOENT, StoreOperations.Lookup(t3, XsCaller.Dom0, "/c", XsAccess.Read, out _));
        StoreOperations.Write(tree, XsCaller.Dom0, Quota, "/c", [], triggers);
        Assert.False(t3.CanCommit());
    }

    [Fact]
    public void ATransactionKeepsSeeingWhatItFirstReadWhateverOthersChange()
    {
        var tree = new NodeTree();
        var triggers = new List<WatchTrigger>();
        StoreOperations.Write(tree, XsCaller.Dom0, Quota, "/s/x", "before"u8.ToArray(), triggers);
        var tx = new TransactionView(tree, 1);
        Assert.Equal(XsError.None, StoreOperations.Lookup(tx, XsCaller.Dom0, "/s/x", XsAccess.Read, out _));
        Assert.Equal(XsError.None, StoreOperations.Lookup(tx, XsCaller.Dom0, "/s", XsAccess.Read, out _));
        Assert.Equal(XsError.ENOENT, StoreOperations.Lookup(tx, XsCaller.Dom0, "/s/new", XsAccess.Read, out _));

        StoreOperations.Write(tree, XsCaller.Dom0, Quota, "/s/x", "after"u8.ToArray(), triggers);
        StoreOperations.Write(tree, XsCaller.Dom0, Quota, "/s/new", "1"u8.ToArray(), triggers);
        StoreOperations.SetPermissions(tree, XsCaller.Dom0, "/s/x", [new XsPermission(XsAccess.Read, 5)], triggers);

        Assert.Equal(XsError.None, StoreOperations.Lookup(tx, XsCaller.Dom0, "/s/x", XsAccess.Read, out var again));
        Assert.Equal("before"u8.ToArray(), again!.Value);
        Assert.Equal(0u, again.Owner);
        Assert.Equal(["x"], tx.Get("/s")!.Children);
        Assert.Equal(XsError.ENOENT, StoreOperations.Lookup(tx, XsCaller.Dom0, "/s/new", XsAccess.Read, out _));
        Assert.Equal(["x", "new"], tree.Get("/s")!.Children); // the live tree moved on
        Assert.False(tx.CanCommit()); // EAGAIN: what it read is no longer so
    }

    [Fact]
    public void RemovalInsideATransactionIsPrivateUntilCommit()
    {
        var tree = new NodeTree();
        var triggers = new List<WatchTrigger>();
        StoreOperations.Write(tree, XsCaller.Dom0, Quota, "/d/e/f", [], triggers);
        var tx = new TransactionView(tree, 1);
        Assert.Equal(XsError.None, StoreOperations.Remove(tx, XsCaller.Dom0, "/d/e", tx.PendingTriggers));
        Assert.Null(tx.Get("/d/e/f"));
        Assert.NotNull(tree.Get("/d/e/f"));
        Assert.True(tx.CanCommit());
        tx.ApplyTo(tree);
        Assert.Null(tree.Get("/d/e/f"));
        Assert.Empty(tree.Get("/d")!.Children);
    }

    [Fact]
    public void PermissionTextParsesOnlyXensForms()
    {
        Assert.True(XsPermission.TryParse("b65535"u8, out var p));
        Assert.Equal(new XsPermission(XsAccess.Both, 65535), p);
        Assert.False(XsPermission.TryParse("b65536"u8, out _));
        Assert.False(XsPermission.TryParse("r-1"u8, out _));
        Assert.False(XsPermission.TryParse("q1"u8, out _));
        Assert.False(XsPermission.TryParse("r"u8, out _));
    }
}
