using System.Buffers.Binary;
using System.IO.Hashing;

namespace Disagg.Xenstored.Durability;

/// <summary>What reading the journal found: the valid prefix, and what was dropped after it.</summary>
public readonly record struct JournalReplay(long ValidLength, ulong LastSequence, int Applied, int Skipped, long DroppedBytes)
{
    /// <summary>
    /// Applies every whole record after <paramref name="snapshotSequence"/>; stops at the first record
    /// whose length runs past the file, whose CRC fails or whose sequence does not follow: a torn tail,
    /// dropped whole, never half-applied.
    /// </summary>
    public static JournalReplay Run(string stateDirectory, ulong snapshotSequence, RecordApplier applier)
    {
        var path = Path.Combine(stateDirectory, Journal.FileName);
        if (!File.Exists(path))
        {
            return new JournalReplay(0, snapshotSequence, 0, 0, 0);
        }

        var bytes = File.ReadAllBytes(path);
        long offset = 0;
        var last = snapshotSequence;
        int applied = 0, skipped = 0;
        while (bytes.Length - offset >= Journal.RecordHeader + 8)
        {
            var span = bytes.AsSpan((int)offset);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(span);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(span[4..]);
            if (length < 8 || length > span.Length - Journal.RecordHeader)
            {
                break;
            }

            var body = span.Slice(Journal.RecordHeader, (int)length);
            if (Crc32.HashToUInt32(body) != crc)
            {
                break;
            }

            var sequence = BinaryPrimitives.ReadUInt64LittleEndian(body);
            if (sequence <= snapshotSequence)
            {
                skipped++; // already in the snapshot: compaction died before truncating the journal
            }
            else if (sequence == last + 1)
            {
                applier.Apply(body[8..]);
                last = sequence;
                applied++;
            }
            else
            {
                break;
            }

            offset += Journal.RecordHeader + length;
        }

        return new JournalReplay(offset, last, applied, skipped, bytes.Length - offset);
    }
}
