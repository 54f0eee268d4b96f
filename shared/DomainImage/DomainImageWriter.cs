using System.Buffers;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>
/// Writes a domain image record by record, in the order a reader requires (header, domain, vCPUs, memory,
/// event channels, grant table, HVM platform and device model, end), so a capture streams memory out without holding it. Not thread-safe.
/// </summary>
public sealed class DomainImageWriter
{
    private readonly Stream _stream;
    private readonly ArrayBufferWriter<byte> _payload = new(64 * 1024);
    private readonly byte[] _frameHeader = new byte[ImageFrame.HeaderSize];
    private readonly byte[] _pages;
    private int _index;

    public DomainImageWriter(Stream stream)
        : this(stream, 0)
    {
    }

    /// <param name="firstIndex">
    /// The index of the first record this writer writes: a migration stream is written round by round by a
    /// new writer each time, its records numbered on from the previous round's (the checksum seed).
    /// </param>
    public DomainImageWriter(Stream stream, int firstIndex)
    {
        _stream = stream;
        _pages = new byte[MemoryRecord.MaxPages * 4096];
        _index = firstIndex;
    }

    /// <summary>Records written so far.</summary>
    public int Records => _index;

    /// <summary>Bytes written so far.</summary>
    public long Bytes { get; private set; }

    public void Write(ImageHeader header)
    {
        var w = Begin();
        header.Write(ref w);
        End(ref w, ImageRecordKind.Header);
    }

    public void Write(DomainRecord domain)
    {
        var w = Begin();
        domain.Write(ref w);
        End(ref w, ImageRecordKind.Domain);
    }

    public void Write(VcpuRecord vcpu)
    {
        var w = Begin();
        vcpu.Write(ref w);
        End(ref w, ImageRecordKind.Vcpu);
    }

    public void Write(MemoryRecord memory)
    {
        var w = Begin();
        memory.Write(ref w);
        End(ref w, ImageRecordKind.Memory);
    }

    public void Write(ZeroPagesRecord zero)
    {
        var w = Begin();
        zero.Write(ref w);
        End(ref w, ImageRecordKind.ZeroPages);
    }

    public void Write(EventChannelsRecord events)
    {
        var w = Begin();
        events.Write(ref w);
        End(ref w, ImageRecordKind.EventChannels);
    }

    public void Write(GrantTableRecord grants)
    {
        var w = Begin();
        grants.Write(ref w);
        End(ref w, ImageRecordKind.GrantTable);
    }

    public void Write(HvmPlatformRecord platform)
    {
        var w = Begin();
        platform.Write(ref w);
        End(ref w, ImageRecordKind.HvmPlatform);
    }

    public void Write(DeviceModelRecord deviceModel)
    {
        var w = Begin();
        deviceModel.Write(ref w);
        End(ref w, ImageRecordKind.DeviceModel);
    }

    /// <summary>
    /// Memory as it is: runs of consecutive frames, each page either all zero (counted, not sent) or sent
    /// compressed, at most <see cref="MemoryRecord.MaxPages"/> per record. <paramref name="readPage"/> fills
    /// a page-sized span for a frame.
    /// </summary>
    public void WritePages(ulong firstFrame, long count, PageSource readPage)
    {
        long i = 0;
        while (i < count)
        {
            var page = _pages.AsSpan(0, 4096);
            readPage(firstFrame + (ulong)i, page);
            if (!page.ContainsAnyExcept((byte)0))
            {
                var zeros = 1L;
                while (i + zeros < count)
                {
                    readPage(firstFrame + (ulong)(i + zeros), page);
                    if (page.ContainsAnyExcept((byte)0))
                    {
                        break;
                    }

                    zeros++;
                }

                Write(new ZeroPagesRecord(firstFrame + (ulong)i, zeros));
                i += zeros;
                continue; // the non-zero page just read is read again as the next run's first
            }

            var run = 1;
            while (run < MemoryRecord.MaxPages && i + run < count)
            {
                var next = _pages.AsSpan(run * 4096, 4096);
                readPage(firstFrame + (ulong)(i + run), next);
                if (!next.ContainsAnyExcept((byte)0))
                {
                    break;
                }

                run++;
            }

            Write(new MemoryRecord { FirstFrame = firstFrame + (ulong)i, PageCount = run, Compressed = PageCompression.Compress(_pages.AsSpan(0, run * 4096)) });
            i += run;
        }
    }

    /// <summary>Writes the end record and flushes: the image is complete.</summary>
    public void Finish()
    {
        var w = Begin();
        new EndRecord(_index).Write(ref w);
        End(ref w, ImageRecordKind.End);
        _stream.Flush();
    }

    /// <summary>A whole image, as <see cref="DomainImageReader.Read"/> returns it.</summary>
    public static void Write(Stream stream, DomainImage image)
    {
        var writer = new DomainImageWriter(stream);
        writer.Write(image.Header);
        writer.Write(image.Domain);
        foreach (var v in image.Vcpus)
        {
            writer.Write(v);
        }

        foreach (var m in image.Memory)
        {
            writer.Write(m);
        }

        foreach (var z in image.ZeroPages)
        {
            writer.Write(z);
        }

        writer.Write(image.EventChannels);
        writer.Write(image.GrantTable);
        if (image.HvmPlatform is { } platform)
        {
            writer.Write(platform);
        }

        if (image.DeviceModel is { } deviceModel)
        {
            writer.Write(deviceModel);
        }

        writer.Finish();
    }

    private MessagePackWriter Begin()
    {
        _payload.ResetWrittenCount();
        return new MessagePackWriter(_payload);
    }

    private void End(ref MessagePackWriter w, ImageRecordKind kind)
    {
        w.Flush();
        var payload = _payload.WrittenSpan;
        if (payload.Length > ImageFrame.MaxPayload(kind))
        {
            throw new InvalidOperationException($"a {kind} record of {payload.Length} bytes is over its {ImageFrame.MaxPayload(kind)}-byte bound");
        }

        ImageFrame.WriteHeader(_frameHeader, kind, payload, _index);
        _stream.Write(_frameHeader);
        _stream.Write(payload);
        Bytes += _frameHeader.Length + payload.Length;
        _index++;
    }
}
