using System.Buffers.Binary;
using System.IO.Hashing;

namespace Disagg.DomainImage;

/// <summary>
/// How one record sits in the stream: a 16-byte frame header — payload length (u32 LE), kind (u16 LE), zero
/// (u16), XXH3-64 checksum (u64 LE) — then the MessagePack payload. The checksum covers the first 8 header
/// bytes and the payload and is seeded with the record's index, so a flipped bit anywhere, a record moved,
/// dropped or repeated, all fail it.
/// </summary>
internal static class ImageFrame
{
    public const int HeaderSize = 16;

    public static void WriteHeader(Span<byte> header, ImageRecordKind kind, ReadOnlySpan<byte> payload, int index)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], (ushort)kind);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], Checksum(header[..8], payload, index));
    }

    public static ulong Checksum(ReadOnlySpan<byte> lengthAndKind, ReadOnlySpan<byte> payload, int index)
    {
        var hash = new XxHash3(index);
        hash.Append(lengthAndKind);
        hash.Append(payload);
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>
    /// The most payload bytes a record of <paramref name="kind"/> can have. A reader allocates the payload only
    /// after this check: a forged length field (a 4 GiB "header") would otherwise make the restoring host
    /// allocate whatever the image's author asks for before the checksum could refuse it.
    /// </summary>
    public static int MaxPayload(ImageRecordKind kind) => kind switch
    {
        ImageRecordKind.Header => ImageHeader.MaxConfigBytes + 256,
        ImageRecordKind.Domain => 1024,
        ImageRecordKind.Vcpu => 2048,
        ImageRecordKind.Memory => PageCompression.MaxCompressedBytes(MemoryRecord.MaxPages * 4096) + 256,
        ImageRecordKind.ZeroPages => 64,
        ImageRecordKind.EventChannels => (EventChannelsRecord.MaxPorts * 40) + 16,
        ImageRecordKind.GrantTable => (GrantTableRecord.MaxFrames * 4096) + 64,
        ImageRecordKind.HvmPlatform => ((HvmPlatformRecord.MaxSources + 1) * 6) + (DomainRecord.MaxVcpuLimit * ((HvmPlatformRecord.EnableWords(HvmPlatformRecord.MaxSources) * 5) + 2)) + 64,
        ImageRecordKind.DeviceModel => (DeviceModelRecord.MaxFiles * (DeviceModelRecord.MaxFileBytes + DeviceModelRecord.MaxNameLength + 16)) + 128,
        ImageRecordKind.End => 64,
        _ => 0,
    };
}
