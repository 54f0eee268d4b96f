using System.Buffers.Binary;
using System.Text;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Domains;
using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Durability;

/// <summary>
/// Replays encoded operations (a snapshot's body or a journal record) onto the state. Input was
/// written by us and checked by CRC, so a malformed operation is our own broken invariant: it throws.
/// </summary>
public sealed class RecordApplier
{
    private readonly XenstoreState _state;

    public RecordApplier(XenstoreState state)
    {
        _state = state;
    }

    /// <summary>Guests' watches by domain, for their connections once attached.</summary>
    public Dictionary<uint, List<PersistedWatch>> Watches { get; } = [];

    public void Apply(ReadOnlySpan<byte> ops)
    {
        var r = new Reader(ops);
        while (!r.AtEnd)
        {
            var kind = (RecordKind)r.U8();
            switch (kind)
            {
                case RecordKind.PutNode:
                    {
                        var path = r.Ascii();
                        var perms = new XsPermission[r.U16()];
                        for (var i = 0; i < perms.Length; i++)
                        {
                            var access = (XsAccess)r.U8();
                            perms[i] = new XsPermission(access, r.U32());
                        }

                        var value = r.Bytes((int)r.U32()).ToArray();
                        _state.Tree.Restore(path, value, perms);
                        break;
                    }

                case RecordKind.RemoveSubtree:
                    {
                        var path = r.Ascii();
                        if (_state.Tree.Get(path) is not null)
                        {
                            _state.Tree.Remove(path);
                        }

                        break;
                    }

                case RecordKind.Introduce:
                    {
                        var domid = r.U32();
                        var frame = r.U64();
                        var port = r.U32();
                        var target = _state.Domains.TryGetValue(domid, out var old) ? old.Target : null;
                        _state.Domains[domid] = new GuestDomain(domid, frame, port) { Target = target };
                        break;
                    }

                case RecordKind.Release:
                    {
                        var domid = r.U32();
                        _state.Domains.Remove(domid);
                        Watches.Remove(domid);
                        break;
                    }

                case RecordKind.SetTarget:
                    {
                        var domid = r.U32();
                        var target = r.U32();
                        if (_state.Domains.TryGetValue(domid, out var d))
                        {
                            d.Target = target;
                        }

                        break;
                    }

                case RecordKind.WatchAdd:
                    {
                        var domid = r.U32();
                        var w = new PersistedWatch(r.Ascii(), r.Latin1(), r.U8() != 0);
                        if (!Watches.TryGetValue(domid, out var list))
                        {
                            Watches[domid] = list = [];
                        }

                        list.Add(w);
                        break;
                    }

                case RecordKind.WatchRemove:
                    {
                        var domid = r.U32();
                        var path = r.Ascii();
                        var token = r.Latin1();
                        Watches.GetValueOrDefault(domid)?.RemoveAll(w => w.Path == path && w.Token == token);
                        break;
                    }

                case RecordKind.WatchReset:
                    Watches.Remove(r.U32());
                    break;

                default:
                    throw new InvalidDataException($"journal operation {(byte)kind} unknown (CRC was good: written by a newer or broken xenstored)");
            }
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly bool AtEnd => _rest.IsEmpty;

        public byte U8()
        {
            var v = _rest[0];
            _rest = _rest[1..];
            return v;
        }

        public ushort U16()
        {
            var v = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
            _rest = _rest[2..];
            return v;
        }

        public uint U32()
        {
            var v = BinaryPrimitives.ReadUInt32LittleEndian(_rest);
            _rest = _rest[4..];
            return v;
        }

        public ulong U64()
        {
            var v = BinaryPrimitives.ReadUInt64LittleEndian(_rest);
            _rest = _rest[8..];
            return v;
        }

        public ReadOnlySpan<byte> Bytes(int n)
        {
            var v = _rest[..n];
            _rest = _rest[n..];
            return v;
        }

        public string Ascii() => Encoding.ASCII.GetString(Bytes(U16()));

        public string Latin1() => Encoding.Latin1.GetString(Bytes(U16()));
    }
}
