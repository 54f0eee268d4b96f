using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Durability;

/// <summary>Encodes operations (little-endian, length-prefixed strings) into a reusable buffer.</summary>
public sealed class RecordWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    public void Clear() => _buffer.ResetWrittenCount();

    public void PutNode(string path, Node node)
    {
        Kind(RecordKind.PutNode);
        Ascii(path);
        U16((ushort)node.Permissions.Length);
        foreach (var p in node.Permissions)
        {
            var span = _buffer.GetSpan(5);
            span[0] = (byte)p.Access;
            BinaryPrimitives.WriteUInt32LittleEndian(span[1..], p.DomainId);
            _buffer.Advance(5);
        }

        U32((uint)node.Value.Length);
        _buffer.Write(node.Value);
    }

    public void Path(RecordKind kind, string path)
    {
        Kind(kind);
        Ascii(path);
    }

    public void Domain(RecordKind kind, uint domainId)
    {
        Kind(kind);
        U32(domainId);
    }

    public void Introduce(uint domainId, ulong frame, uint port)
    {
        Kind(RecordKind.Introduce);
        U32(domainId);
        U64(frame);
        U32(port);
    }

    public void SetTarget(uint domainId, uint target)
    {
        Kind(RecordKind.SetTarget);
        U32(domainId);
        U32(target);
    }

    public void Watch(RecordKind kind, uint domainId, string path, string token, bool relative)
    {
        Kind(kind);
        U32(domainId);
        Ascii(path);
        Latin1(token);
        if (kind == RecordKind.WatchAdd)
        {
            _buffer.GetSpan(1)[0] = relative ? (byte)1 : (byte)0;
            _buffer.Advance(1);
        }
    }

    public void U32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void U64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    private void Kind(RecordKind kind)
    {
        _buffer.GetSpan(1)[0] = (byte)kind;
        _buffer.Advance(1);
    }

    private void U16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
    }

    private void Ascii(string s)
    {
        U16((ushort)s.Length);
        _buffer.Advance(Encoding.ASCII.GetBytes(s, _buffer.GetSpan(s.Length)));
    }

    private void Latin1(string s)
    {
        U16((ushort)s.Length);
        _buffer.Advance(Encoding.Latin1.GetBytes(s, _buffer.GetSpan(s.Length)));
    }
}
