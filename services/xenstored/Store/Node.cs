using Disagg.Xenstored.Permissions;

namespace Disagg.Xenstored.Store;

/// <summary>
/// One xenstore node: a value (raw bytes, may be empty), its permission list, and its children's
/// names in creation order (Xen's C xenstored keeps that order, and clients print it).
/// Generation changes on every modification of the node, including its child list: a transaction
/// that saw one generation and finds another at commit time conflicts (EAGAIN).
/// </summary>
public sealed class Node
{
    public Node(byte[] value, XsPermission[] permissions, List<string> children, ulong generation)
    {
        Value = value;
        Permissions = permissions;
        Children = children;
        Generation = generation;
    }

    public byte[] Value { get; set; }

    /// <summary>Never empty; [0] is the owner. Arrays are replaced, never mutated, so they can be shared.</summary>
    public XsPermission[] Permissions { get; set; }

    public List<string> Children { get; }

    public ulong Generation { get; set; }

    public uint Owner => Permissions[0].DomainId;

    /// <summary>The accounted size, as Xen's node-size quota counts it: value, permission entries and child names.</summary>
    public int AccountedSize
    {
        get
        {
            var size = Value.Length + (Permissions.Length * 8);
            foreach (var c in Children)
            {
                size += c.Length + 1;
            }

            return size;
        }
    }

    public Node Clone() => new(Value, Permissions, [.. Children], Generation);
}
