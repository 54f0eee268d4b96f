using System.Buffers.Binary;
using System.Text;

namespace Disagg.Kernel.Core.Hvm.Fdt;

/// <summary>
/// Writes a flattened device tree blob (Devicetree Specification v0.4, chapter 5: version 17,
/// big-endian, a structure block of BEGIN_NODE/PROP/END_NODE tokens and a strings block that
/// holds each property name once). Nodes and properties are written in the order they are added;
/// the caller balances <see cref="BeginNode"/> and <see cref="EndNode"/>. Misuse is our own bug
/// and throws <see cref="InvalidOperationException"/> or <see cref="ArgumentException"/>.
/// </summary>
public sealed class FdtWriter
{
    private const uint Magic = 0xD00D_FEED;
    private const uint BeginNodeToken = 1;
    private const uint EndNodeToken = 2;
    private const uint PropToken = 3;
    private const uint EndToken = 9;
    private const int HeaderSize = 40;

    private readonly MemoryStream _structure = new();
    private readonly MemoryStream _strings = new();
    private readonly Dictionary<string, int> _stringOffsets = new(StringComparer.Ordinal);
    private int _depth;
    private bool _finished;

    /// <summary>Opens a node; the first one is the root and has the empty name.</summary>
    public void BeginNode(string name)
    {
        CheckOpen();
        if (_depth == 0 && (name.Length != 0 || _structure.Length != 0))
        {
            throw new InvalidOperationException("a device tree has exactly one root node, named \"\"");
        }

        CheckName(name);
        Token(BeginNodeToken);
        WriteAligned(_structure, Encoding.ASCII.GetBytes(name + "\0"));
        _depth++;
    }

    public void EndNode()
    {
        CheckOpen();
        if (_depth == 0)
        {
            throw new InvalidOperationException("EndNode without an open node");
        }

        Token(EndNodeToken);
        _depth--;
    }

    public void Property(string name, ReadOnlySpan<byte> value)
    {
        CheckOpen();
        if (_depth == 0)
        {
            throw new InvalidOperationException($"property '{name}' outside every node");
        }

        CheckName(name);
        Token(PropToken);
        Token((uint)value.Length);
        Token((uint)NameOffset(name));
        WriteAligned(_structure, value);
    }

    public void Empty(string name) => Property(name, []);

    public void U32(string name, params ReadOnlySpan<uint> cells)
    {
        var bytes = new byte[cells.Length * 4];
        for (var i = 0; i < cells.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(i * 4), cells[i]);
        }

        Property(name, bytes);
    }

    /// <summary>Each value as two cells, high then low (#address-cells or #size-cells of 2).</summary>
    public void U64(string name, params ReadOnlySpan<ulong> values)
    {
        var bytes = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * 8), values[i]);
        }

        Property(name, bytes);
    }

    /// <summary>A string or a string list: each NUL-terminated, back to back.</summary>
    public void Strings(string name, params ReadOnlySpan<string> values)
    {
        var text = new StringBuilder();
        foreach (var v in values)
        {
            if (v.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException($"property '{name}': a string holds a NUL", nameof(values));
            }

            text.Append(v).Append('\0');
        }

        Property(name, Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>The blob: header, an empty memory reservation map, structure block, strings block.</summary>
    public byte[] Finish(uint bootCpu = 0)
    {
        CheckOpen();
        if (_depth != 0 || _structure.Length == 0)
        {
            throw new InvalidOperationException($"device tree finished with {_depth} node(s) open");
        }

        Token(EndToken);
        _finished = true;
        const int ReserveMapOffset = HeaderSize; // 8-byte aligned, as the spec requires
        const int ReserveMapSize = 16; // only the terminating (0, 0) entry
        var structOffset = ReserveMapOffset + ReserveMapSize;
        var stringsOffset = structOffset + (int)_structure.Length;
        var total = stringsOffset + (int)_strings.Length;
        var blob = new byte[total];
        var h = blob.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(h[0..], Magic);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(h[8..], (uint)structOffset);
        BinaryPrimitives.WriteUInt32BigEndian(h[12..], (uint)stringsOffset);
        BinaryPrimitives.WriteUInt32BigEndian(h[16..], ReserveMapOffset);
        BinaryPrimitives.WriteUInt32BigEndian(h[20..], 17); // version
        BinaryPrimitives.WriteUInt32BigEndian(h[24..], 16); // last compatible version
        BinaryPrimitives.WriteUInt32BigEndian(h[28..], bootCpu);
        BinaryPrimitives.WriteUInt32BigEndian(h[32..], (uint)_strings.Length);
        BinaryPrimitives.WriteUInt32BigEndian(h[36..], (uint)_structure.Length);
        _structure.ToArray().CopyTo(blob, structOffset);
        _strings.ToArray().CopyTo(blob, stringsOffset);
        return blob;
    }

    private void CheckOpen()
    {
        if (_finished)
        {
            throw new InvalidOperationException("the device tree is already finished");
        }
    }

    private static void CheckName(string name)
    {
        if (name.Contains('\0', StringComparison.Ordinal) || Encoding.UTF8.GetByteCount(name) != name.Length)
        {
            throw new ArgumentException($"device tree name '{name}' is not printable ASCII", nameof(name));
        }
    }

    private int NameOffset(string name)
    {
        if (!_stringOffsets.TryGetValue(name, out var offset))
        {
            offset = (int)_strings.Length;
            _strings.Write(Encoding.ASCII.GetBytes(name + "\0"));
            _stringOffsets[name] = offset;
        }

        return offset;
    }

    private void Token(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        _structure.Write(b);
    }

    private static void WriteAligned(MemoryStream stream, ReadOnlySpan<byte> data)
    {
        stream.Write(data);
        var pad = (int)(-stream.Length & 3);
        for (var i = 0; i < pad; i++)
        {
            stream.WriteByte(0);
        }
    }
}
