using System.Buffers.Binary;
using System.IO.Hashing;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Watches;

namespace Disagg.Xenstored.Durability;

/// <summary>
/// The whole state as of one journal sequence number:
/// "DXSSNAP1", u64 sequence, u64 body length, u32 CRC32 of the body, then the body's operations
/// (every node parents-first, domains, targets, guests' watches). Written to a temporary file,
/// synced, renamed over the old one and the directory synced: a snapshot is whole or absent.
/// </summary>
public static class Snapshot
{
    public const string FileName = "snapshot";
    private const int HeaderLength = 28;
    private static ReadOnlySpan<byte> Magic => "DXSSNAP1"u8;

    public static void Write(string stateDirectory, XenstoreState state, ulong sequence)
    {
        var body = new RecordWriter();
        foreach (var (path, node) in state.Tree.Walk())
        {
            body.PutNode(path, node);
        }

        foreach (var d in state.Domains.Values)
        {
            body.Introduce(d.DomainId, d.RingFrame, d.EventChannel);
            if (d.Target is { } t)
            {
                body.SetTarget(d.DomainId, t);
            }
        }

        foreach (Watch w in state.Watches.All)
        {
            if (w.Owner.PersistsWatches)
            {
                body.Watch(RecordKind.WatchAdd, w.Owner.Caller.DomainId, w.Path, w.Token, w.Relative);
            }
        }

        var header = new byte[HeaderLength];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), (ulong)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(24), Crc32.HashToUInt32(body.Written));

        var final = Path.Combine(stateDirectory, FileName);
        var temporary = final + ".tmp";
        using (var file = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write))
        {
            RandomAccess.Write(file, header, 0);
            RandomAccess.Write(file, body.Written, HeaderLength);
            Disagg.Interop.FileSync.DataSync(file);
        }

        File.Move(temporary, final, overwrite: true);
        Disagg.Interop.FileSync.SyncDirectory(stateDirectory);
    }

    /// <summary>Applies the snapshot if there is one; returns its sequence number (0 without one).</summary>
    public static ulong Load(string stateDirectory, RecordApplier applier)
    {
        var path = Path.Combine(stateDirectory, FileName);
        if (!File.Exists(path))
        {
            return 0;
        }

        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderLength || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path}: not a xenstored snapshot");
        }

        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8));
        var length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16));
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(24));
        // A renamed snapshot was complete and synced; a bad one means the disk lied: stop loudly, never serve a partial store.
        if (length != (ulong)(bytes.Length - HeaderLength) || Crc32.HashToUInt32(bytes.AsSpan(HeaderLength)) != crc)
        {
            throw new InvalidDataException($"{path}: snapshot body fails its length or CRC check");
        }

        applier.Apply(bytes.AsSpan(HeaderLength));
        return sequence;
    }
}
