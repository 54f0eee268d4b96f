using Disagg.Xenstored.Permissions;

namespace Disagg.Xenstored.Store;

/// <summary>
/// The live store: every node by canonical path, per-domain ownership counts for the entries quota,
/// and a global generation counter. Owned by the event loop thread alone, so it takes no locks.
/// Every change goes to the journal in the order it is made.
/// </summary>
public sealed class NodeTree : IStoreView
{
    private static readonly XsPermission[] RootPermissions = [new(XsAccess.None, 0)];
    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<uint, int> _owned = [];
    private ulong _generation;

    public NodeTree()
    {
        _nodes[XsPath.Root] = new Node([], RootPermissions, [], NextGeneration());
        _owned[0] = 1;
    }

    /// <summary>Where changes go; null while replaying the journal itself.</summary>
    public IStoreJournal? Journal { get; set; }

    public int Count => _nodes.Count;

    public ulong Generation => _generation;

    public Node? Get(string path) => _nodes.GetValueOrDefault(path);

    public Node? Get(ReadOnlySpan<char> path) => _nodes.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(path, out var node) ? node : null;

    public void Create(string path, byte[] value, XsPermission[] permissions)
    {
        var parentPath = XsPath.Parent(path);
        var parent = _nodes[parentPath];
        var node = new Node(value, permissions, [], NextGeneration());
        _nodes.Add(path, node);
        parent.Children.Add(XsPath.LastComponent(path));
        parent.Generation = NextGeneration();
        CountOwner(node.Owner, +1);
        Journal?.NodeWritten(path, node);
    }

    public void SetValue(string path, byte[] value)
    {
        var node = _nodes[path];
        node.Value = value;
        node.Generation = NextGeneration();
        Journal?.NodeWritten(path, node);
    }

    public void SetPermissions(string path, XsPermission[] permissions)
    {
        var node = _nodes[path];
        CountOwner(node.Owner, -1);
        node.Permissions = permissions;
        CountOwner(node.Owner, +1);
        node.Generation = NextGeneration();
        Journal?.NodeWritten(path, node);
    }

    public void Remove(string path)
    {
        if (path == XsPath.Root)
        {
            throw new InvalidOperationException("the root node is never removed");
        }

        RemoveSubtree(path);
        var parent = _nodes[XsPath.Parent(path)];
        parent.Children.Remove(XsPath.LastComponent(path));
        parent.Generation = NextGeneration();
        Journal?.SubtreeRemoved(path);
    }

    public int EntriesOwnedBy(uint domainId) => _owned.GetValueOrDefault(domainId);

    /// <summary>Journal replay and snapshot load: create or overwrite a node, creating nothing else.</summary>
    public void Restore(string path, byte[] value, XsPermission[] permissions)
    {
        if (_nodes.ContainsKey(path))
        {
            if (path == XsPath.Root)
            {
                _nodes[path].Permissions = permissions; // the root's owner is always 0
                _nodes[path].Value = value;
                return;
            }

            SetPermissions(path, permissions);
            SetValue(path, value);
            return;
        }

        Create(path, value, permissions);
    }

    /// <summary>Nodes in pre-order (parents before children, children in their order): the snapshot's order.</summary>
    public IEnumerable<(string Path, Node Node)> Walk()
    {
        var stack = new Stack<string>();
        stack.Push(XsPath.Root);
        while (stack.Count > 0)
        {
            var path = stack.Pop();
            var node = _nodes[path];
            yield return (path, node);
            for (var i = node.Children.Count - 1; i >= 0; i--)
            {
                stack.Push(XsPath.Child(path, node.Children[i]));
            }
        }
    }

    private void RemoveSubtree(string path)
    {
        var node = _nodes[path];
        foreach (var child in node.Children)
        {
            RemoveSubtree(XsPath.Child(path, child));
        }

        _nodes.Remove(path);
        CountOwner(node.Owner, -1);
    }

    private void CountOwner(uint domain, int delta)
    {
        var n = _owned.GetValueOrDefault(domain) + delta;
        if (n == 0)
        {
            _owned.Remove(domain);
        }
        else
        {
            _owned[domain] = n;
        }
    }

    private ulong NextGeneration() => ++_generation;
}
