using System.Buffers.Binary;
using System.Text;

namespace Disagg.Kernel.Core.Tests.Hvm;

/// <summary>
/// Reads a device tree blob back, independently of the writer, following the Devicetree
/// Specification's structure rules strictly (token alignment, string offsets inside the strings
/// block, balanced nodes, sizes within the blob): a blob Linux would reject fails here.
/// </summary>
internal sealed class FdtReader
{
    public sealed class Node(string name)
    {
        public string Name { get; } = name;

        public Dictionary<string, byte[]> Properties { get; } = new(StringComparer.Ordinal);

        public List<Node> Children { get; } = [];

        public Node Child(string name) => Children.Single(c => c.Name == name);

        public string String(string property) => Encoding.ASCII.GetString(Properties[property]).TrimEnd('\0');

        public string[] StringList(string property) => Encoding.ASCII.GetString(Properties[property]).TrimEnd('\0').Split('\0');

        public uint[] Cells(string property)
        {
            var b = Properties[property];
            Assert.Equal(0, b.Length % 4);
            return [.. Enumerable.Range(0, b.Length / 4).Select(i => BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(i * 4)))];
        }

        public ulong[] Pairs(string property)
        {
            var c = Cells(property);
            return [.. Enumerable.Range(0, c.Length / 2).Select(i => ((ulong)c[2 * i] << 32) | c[(2 * i) + 1])];
        }
    }

    public static Node Parse(byte[] blob, out uint bootCpu)
    {
        var h = blob.AsSpan();
        Assert.Equal(0xD00DFEEDu, BinaryPrimitives.ReadUInt32BigEndian(h));
        var total = BinaryPrimitives.ReadUInt32BigEndian(h[4..]);
        var structOff = (int)BinaryPrimitives.ReadUInt32BigEndian(h[8..]);
        var stringsOff = (int)BinaryPrimitives.ReadUInt32BigEndian(h[12..]);
        var rsvOff = (int)BinaryPrimitives.ReadUInt32BigEndian(h[16..]);
        Assert.Equal(17u, BinaryPrimitives.ReadUInt32BigEndian(h[20..]));
        Assert.Equal(16u, BinaryPrimitives.ReadUInt32BigEndian(h[24..]));
        bootCpu = BinaryPrimitives.ReadUInt32BigEndian(h[28..]);
        var stringsSize = (int)BinaryPrimitives.ReadUInt32BigEndian(h[32..]);
        var structSize = (int)BinaryPrimitives.ReadUInt32BigEndian(h[36..]);
        Assert.Equal((uint)blob.Length, total);
        Assert.Equal(0, rsvOff % 8);
        Assert.Equal(0, structOff % 4);
        Assert.True(structOff + structSize <= blob.Length && stringsOff + stringsSize <= blob.Length);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64BigEndian(h[rsvOff..]) | BinaryPrimitives.ReadUInt64BigEndian(h[(rsvOff + 8)..]));

        var s = h.Slice(structOff, structSize);
        var strings = h.Slice(stringsOff, stringsSize);
        var pos = 0;
        var stack = new Stack<Node>();
        Node? root = null;
        while (true)
        {
            var token = BinaryPrimitives.ReadUInt32BigEndian(s[pos..]);
            pos += 4;
            switch (token)
            {
                case 1:
                    {
                        var end = s[pos..].IndexOf((byte)0);
                        var node = new Node(Encoding.ASCII.GetString(s.Slice(pos, end)));
                        pos = Align(pos + end + 1);
                        if (stack.Count == 0)
                        {
                            Assert.Null(root);
                            root = node;
                        }
                        else
                        {
                            stack.Peek().Children.Add(node);
                        }

                        stack.Push(node);
                        break;
                    }

                case 2:
                    stack.Pop();
                    break;
                case 3:
                    {
                        var len = (int)BinaryPrimitives.ReadUInt32BigEndian(s[pos..]);
                        var nameOff = (int)BinaryPrimitives.ReadUInt32BigEndian(s[(pos + 4)..]);
                        Assert.True(nameOff < stringsSize);
                        var nameEnd = strings[nameOff..].IndexOf((byte)0);
                        var name = Encoding.ASCII.GetString(strings.Slice(nameOff, nameEnd));
                        Assert.True(stack.Peek().Properties.TryAdd(name, s.Slice(pos + 8, len).ToArray()), $"duplicate property {name}");
                        pos = Align(pos + 8 + len);
                        break;
                    }

                case 4:
                    break;
                case 9:
                    Assert.Empty(stack);
                    Assert.Equal(structSize, pos);
                    return root!;
                default:
                    throw new InvalidDataException($"bad token {token} at {pos - 4}");
            }
        }
    }

    private static int Align(int pos) => (pos + 3) & ~3;
}
