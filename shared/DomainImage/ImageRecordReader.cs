using System.Buffers.Binary;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>
/// Reads an image one record at a time, for a consumer that acts on each as it arrives (a migration target
/// writes memory into the new domain while the source is still sending). Each record's length bound,
/// checksum (seeded with its index) and body are checked here, exactly as <see cref="DomainImageReader"/>
/// checks them; the order of records is the consumer's to check. Reads exactly one record's bytes: nothing
/// after the end record is consumed.
/// </summary>
public sealed class ImageRecordReader(Stream stream)
{
    private const int PageSize = 4096;
    private readonly byte[] _header = new byte[ImageFrame.HeaderSize];
    private readonly byte[] _scratch = new byte[MemoryRecord.MaxPages * PageSize];

    /// <summary>The domain's vCPUs, for the HVM platform record's check: the consumer sets it from the domain record.</summary>
    public int MaxVcpus { get; set; } = DomainRecord.MaxVcpuLimit;

    /// <summary>The index of the next record.</summary>
    public int Index { get; private set; }

    /// <summary>
    /// The pages of the last <see cref="MemoryRecord"/> read, as its check expanded them; valid until the next read.
    /// A migration's target copies them from here: expanding the run a second time cost the stop round as much again.
    /// </summary>
    public ReadOnlySpan<byte> LastPages => _scratch.AsSpan(0, _lastPagesBytes);

    private int _lastPagesBytes;

    /// <summary>
    /// The next record: an <see cref="ImageHeader"/>, <see cref="DomainRecord"/>, <see cref="VcpuRecord"/>,
    /// <see cref="MemoryRecord"/> (already checked to decompress), <see cref="ZeroPagesRecord"/>,
    /// <see cref="EventChannelsRecord"/>, <see cref="GrantTableRecord"/>, <see cref="HvmPlatformRecord"/>,
    /// <see cref="DeviceModelRecord"/> or <see cref="EndRecord"/> (whose count
    /// is checked). Throws <see cref="DomainImageException"/> naming the record.
    /// </summary>
    public object Read(out ImageRecordKind kind)
    {
        var index = Index;
        var got = stream.ReadAtLeast(_header, _header.Length, throwOnEndOfStream: false);
        if (got < _header.Length)
        {
            throw new DomainImageException(DomainImageError.Truncated, null, index,
                got == 0 ? "the stream ends without an end record" : $"the stream ends {got} bytes into a record's frame header");
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(_header);
        var rawKind = BinaryPrimitives.ReadUInt16LittleEndian(_header.AsSpan(4));
        if (!Enum.IsDefined((ImageRecordKind)rawKind) || BinaryPrimitives.ReadUInt16LittleEndian(_header.AsSpan(6)) != 0)
        {
            throw index == 0
                ? new DomainImageException(DomainImageError.ForeignImage, null, 0, "the first record is not a domain image header")
                : new DomainImageException(DomainImageError.UnknownKind, null, index, $"kind {rawKind}");
        }

        kind = (ImageRecordKind)rawKind;
        if (length > (uint)ImageFrame.MaxPayload(kind))
        {
            throw new DomainImageException(DomainImageError.RecordTooLarge, kind, index, $"{length} bytes, at most {ImageFrame.MaxPayload(kind)}");
        }

        var payload = new byte[length];
        got = stream.ReadAtLeast(payload, payload.Length, throwOnEndOfStream: false);
        if (got < payload.Length)
        {
            throw new DomainImageException(DomainImageError.Truncated, kind, index, $"the stream ends {got} of {length} bytes into the record");
        }

        if (ImageFrame.Checksum(_header.AsSpan(0, 8), payload, index) != BinaryPrimitives.ReadUInt64LittleEndian(_header.AsSpan(8)))
        {
            throw new DomainImageException(index == 0 ? DomainImageError.ForeignImage : DomainImageError.ChecksumMismatch, kind, index, $"{length}-byte record");
        }

        var reader = new MessagePackReader(payload);
        object record;
        try
        {
            record = kind switch
            {
                ImageRecordKind.Header => DomainImageReader.CheckHeader(ImageHeader.Read(ref reader)),
                ImageRecordKind.Domain => DomainRecord.Read(ref reader),
                ImageRecordKind.Vcpu => VcpuRecord.Read(ref reader),
                ImageRecordKind.Memory => CheckMemory(MemoryRecord.Read(ref reader, PageSize)),
                ImageRecordKind.ZeroPages => ZeroPagesRecord.Read(ref reader),
                ImageRecordKind.EventChannels => EventChannelsRecord.Read(ref reader),
                ImageRecordKind.GrantTable => GrantTableRecord.Read(ref reader, PageSize),
                ImageRecordKind.HvmPlatform => HvmPlatformRecord.Read(ref reader, MaxVcpus),
                ImageRecordKind.DeviceModel => DeviceModelRecord.Read(ref reader),
                _ => CheckEnd(EndRecord.Read(ref reader), index),
            };
            if (!reader.End)
            {
                throw new MessagePackSerializationException("bytes after the record's body");
            }
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            throw new DomainImageException(DomainImageError.Malformed, kind, index, e.Message);
        }

        Index++;
        return record;
    }

    private MemoryRecord CheckMemory(MemoryRecord run)
    {
        _lastPagesBytes = 0;
        if (!PageCompression.TryDecompress(run.Compressed, _scratch.AsSpan(0, run.PageCount * PageSize)))
        {
            throw new MessagePackSerializationException($"{run.PageCount} pages at frame 0x{run.FirstFrame:x} do not decompress to {run.PageCount * PageSize} bytes");
        }

        _lastPagesBytes = run.PageCount * PageSize;
        return run;
    }

    private static EndRecord CheckEnd(EndRecord end, int index) => end.RecordCount == index
        ? end
        : throw new MessagePackSerializationException($"the end record counts {end.RecordCount} records, the stream had {index}");
}
