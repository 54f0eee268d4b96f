using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using Disagg.Control.Messages;
using Disagg.Service.Faults;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Domains;
using Disagg.Xenstored.Store;
using Microsoft.Win32.SafeHandles;

namespace Disagg.Xenstored.Durability;

/// <summary>
/// The append-only journal: one record per state-changing request,
/// [u32 length][u32 CRC32 of the rest][u64 sequence][operations]. Records of one event-loop batch
/// are written together (one write(2), group commit) before any reply of that batch is sent, so a reply
/// means "in the host's page cache": it survives our death. The disk follows on
/// <see cref="JournalFlusher"/>'s thread. A crash mid-write leaves a tail whose length or CRC does not
/// check out; loading drops it whole.
/// </summary>
public sealed class Journal : IDurableLog, IDisposable
{
    public const string FileName = "journal";
    public const int RecordHeader = 8;

    private readonly SafeFileHandle _file;
    private readonly RecordWriter _request = new();
    private readonly ArrayBufferWriter<byte> _batch = new(64 * 1024);
    private readonly string _path;
    private readonly JournalFlusher _flusher;

    private readonly ChannelFaults? _faults;

    /// <param name="faults">Only on a fault-injection host: a <see cref="ChannelFaultKind.JournalTear"/> cuts a write short.</param>
    public Journal(string stateDirectory, long validLength, ulong lastSequence, ChannelFaults? faults = null)
    {
        _faults = faults;
        _path = Path.Combine(stateDirectory, FileName);
        _file = File.OpenHandle(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite);
        if (RandomAccess.GetLength(_file) != validLength)
        {
            // Drop a torn tail now, so new records never follow garbage.
            RandomAccess.SetLength(_file, validLength);
            Disagg.Interop.FileSync.DataSync(_file);
        }

        Length = validLength;
        Sequence = lastSequence;
        _flusher = new JournalFlusher(_file);
    }

    public long Length { get; private set; }

    public ulong Sequence { get; private set; }

    /// <summary>Batches written (each one write(2)): what a reply waits for.</summary>
    public long Writes { get; private set; }

    /// <summary>fdatasyncs, on the flusher's thread or <see cref="Sync"/>'s.</summary>
    public long Syncs => _flusher.Syncs + _directSyncs;

    private long _directSyncs;

    public bool HasPending => _batch.WrittenCount > 0;

    /// <summary>The length of the last record added to the batch (where an injected tear cuts).</summary>
    private int LastRecordLength { get; set; }

    public void NodeWritten(string path, Node node) => _request.PutNode(path, node);

    public void SubtreeRemoved(string path) => _request.Path(RecordKind.RemoveSubtree, path);

    public void DomainIntroduced(GuestDomain domain) => _request.Introduce(domain.DomainId, domain.RingFrame, domain.EventChannel);

    public void DomainReleased(uint domainId) => _request.Domain(RecordKind.Release, domainId);

    public void TargetSet(uint domainId, uint target) => _request.SetTarget(domainId, target);

    public void WatchAdded(uint domainId, string path, string token, bool relative) => _request.Watch(RecordKind.WatchAdd, domainId, path, token, relative);

    public void WatchRemoved(uint domainId, string path, string token) => _request.Watch(RecordKind.WatchRemove, domainId, path, token, false);

    public void WatchesReset(uint domainId) => _request.Domain(RecordKind.WatchReset, domainId);

    public void EndRequest()
    {
        if (_request.Length == 0)
        {
            return;
        }

        var ops = _request.Written;
        var bodyLength = 8 + ops.Length;
        var span = _batch.GetSpan(RecordHeader + bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)bodyLength);
        BinaryPrimitives.WriteUInt64LittleEndian(span[RecordHeader..], ++Sequence);
        ops.CopyTo(span[(RecordHeader + 8)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], Crc32.HashToUInt32(span.Slice(RecordHeader, bodyLength)));
        _batch.Advance(RecordHeader + bodyLength);
        LastRecordLength = RecordHeader + bodyLength;
        _request.Clear();
    }

    /// <summary>
    /// Writes the batch's records (survives our death once this returns) and has the flusher sync them soon;
    /// false if there was nothing to write. Throws if an earlier background sync failed: the disk is gone,
    /// and a reply must not claim otherwise.
    /// </summary>
    public bool Write()
    {
        if (_flusher.Failure is { } failure)
        {
            throw new IOException($"journal {_path}: fdatasync failed", failure);
        }

        if (_batch.WrittenCount == 0)
        {
            return false;
        }

        if (_faults is not null && _faults.TryTake(ChannelFaultKind.JournalTear))
        {
            TearAndDie();
        }

        RandomAccess.Write(_file, _batch.WrittenSpan, Length);
        Length += _batch.WrittenCount;
        _batch.ResetWrittenCount();
        Writes++;
        _flusher.Written();
        return true;
    }

    /// <summary>
    /// The injected torn write: half of this batch reaches the file (its last record cut short, so its length or CRC
    /// cannot check out), then the process is killed before any reply of the batch is sent, as a power cut or a
    /// SIGKILL mid-write(2) leaves it. The restarted xenstored's replay keeps the valid prefix and drops the tail.
    /// </summary>
    private void TearAndDie()
    {
        var torn = _batch.WrittenSpan[..Math.Max(1, _batch.WrittenCount - Math.Max(1, LastRecordLength / 2))];
        RandomAccess.Write(_file, torn, Length);
        Console.Error.WriteLine($"xenstored: fault injection: journal write torn after {torn.Length} of {_batch.WrittenCount} bytes at offset {Length}; killing this process");
        Disagg.Interop.ProcessSignals.Send(Environment.ProcessId, Disagg.Interop.ProcessSignals.Sigkill);
        Thread.Sleep(Timeout.Infinite); // SIGKILL is delivered before kill() returns to a single target; never reached
    }

    /// <summary>Writes the batch's records and waits for the disk (rare work: releases found at start); false if there was nothing to write.</summary>
    public bool Sync()
    {
        if (!Write())
        {
            return false;
        }

        Disagg.Interop.FileSync.DataSync(_file);
        _directSyncs++;
        return true;
    }

    /// <summary>After a snapshot holding everything up to <see cref="Sequence"/> is durable: start the journal over.</summary>
    public void Truncate()
    {
        RandomAccess.SetLength(_file, 0);
        Disagg.Interop.FileSync.DataSync(_file);
        Length = 0;
    }

    /// <summary>Syncs what was written, then closes the file.</summary>
    public void Dispose()
    {
        _flusher.Dispose();
        _file.Dispose();
    }
}
