using System.Buffers.Binary;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>
/// Reads and checks a whole domain image: every record's length bound, checksum, body and place in the
/// sequence, and the end record, before returning anything — so a caller creates nothing from a truncated,
/// corrupted or foreign image. Every refusal is a <see cref="DomainImageException"/> naming the record.
/// </summary>
public static class DomainImageReader
{
    private const int PageSize = 4096;

    public static DomainImage Read(Stream stream, ImageHost? host = null)
    {
        host ??= new ImageHost();
        var header = new byte[ImageFrame.HeaderSize];
        var scratch = new byte[MemoryRecord.MaxPages * PageSize];
        ImageHeader? imageHeader = null;
        DomainRecord? domain = null;
        var vcpus = new List<VcpuRecord>();
        var memory = new List<MemoryRecord>();
        var zeros = new List<ZeroPagesRecord>();
        EventChannelsRecord? events = null;
        GrantTableRecord? grants = null;
        HvmPlatformRecord? platform = null;
        DeviceModelRecord? deviceModel = null;
        var stage = 0;
        for (var index = 0; ; index++)
        {
            var (kind, payload) = ReadRecord(stream, header, index);
            var next = Stage(kind);
            if (index == 0 ? kind != ImageRecordKind.Header : next < stage || (next == stage && IsSingleton(kind)) || next == 0)
            {
                throw new DomainImageException(index == 0 ? DomainImageError.ForeignImage : DomainImageError.BadSequence, kind, index,
                    index == 0 ? "the first record is not a domain image header" : "out of order (header, domain, vCPUs, memory, event channels, grant table, HVM platform, device model, end)");
            }

            if (next > Stage(ImageRecordKind.Domain) && domain is null)
            {
                throw new DomainImageException(DomainImageError.BadSequence, kind, index, "no domain record before it");
            }

            stage = next;
            var reader = new MessagePackReader(payload);
            try
            {
                switch (kind)
                {
                    case ImageRecordKind.Header:
                        imageHeader = CheckHeader(ImageHeader.Read(ref reader));
                        if (imageHeader.Isa > host.WidestGuest)
                        {
                            throw new DomainImageException(DomainImageError.DoesNotFitHost, kind, index, $"an {imageHeader.Isa} guest on an {host.WidestGuest} host");
                        }

                        break;
                    case ImageRecordKind.Domain:
                        domain = DomainRecord.Read(ref reader);
                        break;
                    case ImageRecordKind.Vcpu:
                        var vcpu = VcpuRecord.Read(ref reader);
                        if (vcpu.Index != vcpus.Count || vcpu.Index >= domain!.MaxVcpus)
                        {
                            throw new MessagePackSerializationException($"vcpu {vcpu.Index} where vcpu {vcpus.Count} of {domain!.MaxVcpus} belongs");
                        }

                        vcpus.Add(vcpu);
                        break;
                    case ImageRecordKind.Memory:
                        var run = MemoryRecord.Read(ref reader, PageSize);
                        if (!PageCompression.TryDecompress(run.Compressed, scratch.AsSpan(0, run.PageCount * PageSize)))
                        {
                            throw new MessagePackSerializationException($"{run.PageCount} pages at frame 0x{run.FirstFrame:x} do not decompress to {run.PageCount * PageSize} bytes");
                        }

                        Fit(host, domain!, run.FirstFrame, run.PageCount, kind, index);
                        memory.Add(run);
                        break;
                    case ImageRecordKind.ZeroPages:
                        var zero = ZeroPagesRecord.Read(ref reader);
                        Fit(host, domain!, zero.FirstFrame, zero.Count, kind, index);
                        zeros.Add(zero);
                        break;
                    case ImageRecordKind.EventChannels:
                        events = EventChannelsRecord.Read(ref reader);
                        break;
                    case ImageRecordKind.GrantTable:
                        grants = GrantTableRecord.Read(ref reader, PageSize);
                        break;
                    case ImageRecordKind.HvmPlatform:
                        platform = HvmPlatformRecord.Read(ref reader, domain!.MaxVcpus);
                        break;
                    case ImageRecordKind.DeviceModel:
                        if (platform is null)
                        {
                            throw new DomainImageException(DomainImageError.BadSequence, kind, index, "a device model's state in an image without an HVM platform record");
                        }

                        deviceModel = DeviceModelRecord.Read(ref reader);
                        break;
                    case ImageRecordKind.End:
                        var end = EndRecord.Read(ref reader);
                        if (end.RecordCount != index)
                        {
                            throw new MessagePackSerializationException($"the end record counts {end.RecordCount} records, the stream had {index}");
                        }

                        break;
                }

                if (!reader.End)
                {
                    throw new MessagePackSerializationException("bytes after the record's body");
                }
            }
            catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException)
            {
                throw new DomainImageException(DomainImageError.Malformed, kind, index, e.Message);
            }

            if (kind == ImageRecordKind.End)
            {
                if (vcpus.Count != domain!.MaxVcpus || events is null || grants is null)
                {
                    throw new DomainImageException(DomainImageError.BadSequence, kind, index,
                        $"{vcpus.Count} of {domain.MaxVcpus} vCPU records{(events is null ? ", no event channel record" : "")}{(grants is null ? ", no grant table record" : "")}");
                }

                if (stream.ReadByte() >= 0)
                {
                    throw new DomainImageException(DomainImageError.BadSequence, kind, index, "bytes after the end record");
                }

                return new DomainImage
                {
                    Header = imageHeader!,
                    Domain = domain,
                    Vcpus = vcpus,
                    Memory = memory,
                    ZeroPages = zeros,
                    EventChannels = events,
                    GrantTable = grants,
                    HvmPlatform = platform,
                    DeviceModel = deviceModel,
                };
            }
        }
    }

    /// <summary>
    /// Reads only the first record and checks it as <see cref="Read"/> does: what a toolstack needs before it
    /// asks a kernel to restore (the guest's width and its config), without reading the memory behind it.
    /// </summary>
    public static ImageHeader ReadHeader(Stream stream, ImageHost? host = null)
    {
        host ??= new ImageHost();
        var (kind, payload) = ReadRecord(stream, new byte[ImageFrame.HeaderSize], 0);
        if (kind != ImageRecordKind.Header)
        {
            throw new DomainImageException(DomainImageError.ForeignImage, kind, 0, "the first record is not a domain image header");
        }

        var reader = new MessagePackReader(payload);
        ImageHeader h;
        try
        {
            h = CheckHeader(ImageHeader.Read(ref reader));
            if (!reader.End)
            {
                throw new MessagePackSerializationException("bytes after the record's body");
            }
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            throw new DomainImageException(DomainImageError.Malformed, kind, 0, e.Message);
        }

        return h.Isa > host.WidestGuest
            ? throw new DomainImageException(DomainImageError.DoesNotFitHost, kind, 0, $"an {h.Isa} guest on an {host.WidestGuest} host")
            : h;
    }

    /// <summary>
    /// The device model's state and its record's index (null, -1 when the image has none), for a toolstack that
    /// starts the device model of the domain the kernel restores: every record is read and checked as it passes
    /// (checksum, body), nothing but this one is kept, and the stream must reach its end record.
    /// </summary>
    public static (DeviceModelRecord? Record, int Index) ReadDeviceModel(Stream stream)
    {
        var reader = new ImageRecordReader(stream);
        DeviceModelRecord? found = null;
        var at = -1;
        while (true)
        {
            var index = reader.Index;
            switch (reader.Read(out _))
            {
                case DomainRecord d:
                    reader.MaxVcpus = d.MaxVcpus;
                    break;
                case DeviceModelRecord m:
                    (found, at) = (m, index);
                    break;
                case EndRecord:
                    return (found, at);
            }
        }
    }

    /// <summary>One record's frame: its length bounded before the payload is allocated, its checksum checked.</summary>
    private static (ImageRecordKind Kind, byte[] Payload) ReadRecord(Stream stream, byte[] header, int index)
    {
        var got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got < header.Length)
        {
            throw new DomainImageException(DomainImageError.Truncated, null, index,
                got == 0 ? "the stream ends without an end record" : $"the stream ends {got} bytes into a record's frame header");
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var rawKind = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(4));
        ImageRecordKind? known = Enum.IsDefined((ImageRecordKind)rawKind) ? (ImageRecordKind)rawKind : null;
        if (known is not { } kind || BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(6)) != 0)
        {
            throw index == 0
                ? new DomainImageException(DomainImageError.ForeignImage, null, 0, "the first record is not a domain image header")
                : new DomainImageException(DomainImageError.UnknownKind, null, index, $"kind {rawKind}");
        }

        // Bounded before allocating: see ImageFrame.MaxPayload.
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

        if (ImageFrame.Checksum(header.AsSpan(0, 8), payload, index) != BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(8)))
        {
            throw index == 0 && kind != ImageRecordKind.Header
                ? new DomainImageException(DomainImageError.ForeignImage, kind, 0, "the first record is not a domain image header")
                : new DomainImageException(DomainImageError.ChecksumMismatch, kind, index, $"{length}-byte record");
        }

        return (kind, payload);
    }

    private static void Fit(ImageHost host, DomainRecord domain, ulong first, long count, ImageRecordKind kind, int index)
    {
        if (host.FramesFit is { } fit && !fit(domain, first, count))
        {
            throw new DomainImageException(DomainImageError.DoesNotFitHost, kind, index, $"frames 0x{first:x}+{count} are outside a {domain.MaxPages}-page domain");
        }
    }

    internal static ImageHeader CheckHeader(ImageHeader h)
    {
        if (h.Magic != ImageHeader.ExpectedMagic)
        {
            throw new DomainImageException(DomainImageError.ForeignImage, ImageRecordKind.Header, 0, $"magic 0x{h.Magic:x16}");
        }

        if (h.Version != ImageHeader.CurrentVersion)
        {
            throw new DomainImageException(DomainImageError.UnsupportedVersion, ImageRecordKind.Header, 0, $"format version {h.Version}, this reader knows {ImageHeader.CurrentVersion}");
        }

        if (h.Isa is not (ImageIsa.Rv32 or ImageIsa.Rv64) || h.PageSize != PageSize)
        {
            throw new MessagePackSerializationException($"ISA width {(int)h.Isa}, page size {h.PageSize}");
        }

        return h;
    }

    /// <summary>Where a kind sits in the required order; records of one stage may repeat unless they are singletons.</summary>
    private static int Stage(ImageRecordKind kind) => kind switch
    {
        ImageRecordKind.Header => 0,
        ImageRecordKind.Domain => 1,
        ImageRecordKind.Vcpu => 2,
        ImageRecordKind.Memory or ImageRecordKind.ZeroPages => 3,
        ImageRecordKind.EventChannels => 4,
        ImageRecordKind.GrantTable => 5,
        ImageRecordKind.HvmPlatform => 6,
        ImageRecordKind.DeviceModel => 7,
        _ => 8,
    };

    private static bool IsSingleton(ImageRecordKind kind) => kind is ImageRecordKind.Domain or ImageRecordKind.EventChannels or ImageRecordKind.GrantTable
        or ImageRecordKind.HvmPlatform or ImageRecordKind.DeviceModel or ImageRecordKind.End;
}
