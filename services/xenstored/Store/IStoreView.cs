using Disagg.Xenstored.Permissions;

namespace Disagg.Xenstored.Store;

/// <summary>
/// The node operations the protocol needs, over either the live tree or a transaction's private
/// view of it. Nodes returned by <see cref="Get"/> are read-only to the caller.
/// </summary>
public interface IStoreView
{
    Node? Get(string path);

    /// <summary>Adds a node whose parent exists in this view and appends it to the parent's children.</summary>
    void Create(string path, byte[] value, XsPermission[] permissions);

    void SetValue(string path, byte[] value);

    void SetPermissions(string path, XsPermission[] permissions);

    /// <summary>Removes the node, every node below it, and its name from its parent.</summary>
    void Remove(string path);

    /// <summary>Nodes owned by <paramref name="domainId"/> as this view sees them (for the entries quota).</summary>
    int EntriesOwnedBy(uint domainId);
}
