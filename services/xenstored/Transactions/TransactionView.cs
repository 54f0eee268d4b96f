using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Transactions;

/// <summary>
/// A transaction's private view of the tree (Xen's generation-count scheme): the first access to each
/// path takes the transaction's own copy of the node (or notes that it is absent) with its generation,
/// and every later read or write of that path in the transaction sees that copy, whatever other clients
/// do to the live node meanwhile (as Xen's xenstored, which works on per-transaction node copies).
/// Commit succeeds only if every recorded generation is still current — a node changed outside since
/// the transaction first saw it is EAGAIN — and then replays the transaction's operations on the live
/// tree, so a committed transaction is equivalent to running its operations alone at commit time.
/// </summary>
public sealed class TransactionView : IStoreView
{
    private readonly NodeTree _live;
    private readonly Dictionary<string, Node?> _overlay = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _seen = new(StringComparer.Ordinal);
    private readonly List<Operation> _operations = [];
    private readonly Dictionary<uint, int> _ownedDelta = [];

    public TransactionView(NodeTree live, uint id)
    {
        _live = live;
        Id = id;
    }

    public uint Id { get; }

    /// <summary>Watch triggers to fire if the commit succeeds.</summary>
    public List<WatchTrigger> PendingTriggers { get; } = [];

    public int OperationCount => _operations.Count;

    /// <summary>Distinct nodes this transaction has read or written (what its commit must check).</summary>
    public int AccessedNodes => _seen.Count;

    public Node? Get(string path)
    {
        if (_overlay.TryGetValue(path, out var mine))
        {
            return mine;
        }

        var live = _live.Get(path);
        _seen.TryAdd(path, live?.Generation ?? 0);
        var copy = live?.Clone(); // children are a list the live tree changes in place: the copy is ours
        _overlay[path] = copy;
        return copy;
    }

    public void Create(string path, byte[] value, XsPermission[] permissions)
    {
        var parentPath = XsPath.Parent(path);
        var parent = Writable(parentPath) ?? throw new InvalidOperationException($"create {path}: parent missing in the transaction");
        Get(path); // records that it was absent
        parent.Children.Add(XsPath.LastComponent(path));
        _overlay[path] = new Node(value, permissions, [], 0);
        Count(permissions[0].DomainId, +1);
        _operations.Add(new Operation(OperationKind.Create, path, value, permissions));
    }

    public void SetValue(string path, byte[] value)
    {
        Writable(path)!.Value = value;
        _operations.Add(new Operation(OperationKind.SetValue, path, value, null));
    }

    public void SetPermissions(string path, XsPermission[] permissions)
    {
        var node = Writable(path)!;
        Count(node.Owner, -1);
        node.Permissions = permissions;
        Count(node.Owner, +1);
        _operations.Add(new Operation(OperationKind.SetPermissions, path, null, permissions));
    }

    public void Remove(string path)
    {
        RemoveSubtree(path);
        Writable(XsPath.Parent(path))!.Children.Remove(XsPath.LastComponent(path));
        _operations.Add(new Operation(OperationKind.Remove, path, null, null));
    }

    public int EntriesOwnedBy(uint domainId) => _live.EntriesOwnedBy(domainId) + _ownedDelta.GetValueOrDefault(domainId);

    /// <summary>True when nothing this transaction looked at has changed since it looked.</summary>
    public bool CanCommit()
    {
        foreach (var (path, generation) in _seen)
        {
            if ((_live.Get(path)?.Generation ?? 0) != generation)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Applies the transaction to the live tree; call only after <see cref="CanCommit"/>.</summary>
    public void ApplyTo(NodeTree live)
    {
        foreach (var op in _operations)
        {
            switch (op.Kind)
            {
                case OperationKind.Create: live.Create(op.Path, op.Value!, op.Permissions!); break;
                case OperationKind.SetValue: live.SetValue(op.Path, op.Value!); break;
                case OperationKind.SetPermissions: live.SetPermissions(op.Path, op.Permissions!); break;
                case OperationKind.Remove: live.Remove(op.Path); break;
            }
        }
    }

    /// <summary>Every node a transaction holds is its own copy, so writing is changing that copy.</summary>
    private Node? Writable(string path) => Get(path);

    private void RemoveSubtree(string path)
    {
        var node = Get(path)!;
        foreach (var child in node.Children)
        {
            RemoveSubtree(XsPath.Child(path, child));
        }

        Count(node.Owner, -1);
        _overlay[path] = null;
    }

    private void Count(uint domain, int delta) => _ownedDelta[domain] = _ownedDelta.GetValueOrDefault(domain) + delta;

    private enum OperationKind
    {
        Create,
        SetValue,
        SetPermissions,
        Remove,
    }

    private readonly record struct Operation(OperationKind Kind, string Path, byte[]? Value, XsPermission[]? Permissions);
}
