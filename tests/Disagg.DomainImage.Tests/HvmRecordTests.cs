using System.Buffers;
using System.Buffers.Binary;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage.Tests;

/// <summary>
/// The HVM records (the platform's PLIC, the device model's state): their wire form is pinned, a garbled or
/// foreign body with a good checksum is refused naming the record, and they come only where the format says.
/// </summary>
public sealed class HvmRecordTests
{
    [Fact]
    public void TheNewKindsKeepTheirWireValuesAndTheirPlaceBeforeTheEnd()
    {
        Assert.Equal(8, (int)ImageRecordKind.HvmPlatform);
        Assert.Equal(9, (int)ImageRecordKind.DeviceModel);
        var bytes = SampleImage.Bytes();
        var starts = SampleImage.RecordStarts(bytes);
        var kinds = starts.SkipLast(1).Select(s => SampleImage.KindAt(bytes, s)).ToList();
        Assert.Equal([ImageRecordKind.GrantTable, ImageRecordKind.HvmPlatform, ImageRecordKind.DeviceModel, ImageRecordKind.End], kinds[^4..]);
    }

    [Fact]
    public void TheDeviceModelRecordsBodyIsPinned()
    {
        // [model, [[name, bytes], ...]]: what a reader of another build of this format expects, byte for byte.
        var body = new DeviceModelRecord("m", [new DeviceModelFile("uart", [0xAB])]).Encode();
        Assert.Equal("92A16D9192A475617274C401AB", Convert.ToHexString(body));
        Assert.Equal("uart", DeviceModelRecord.Decode(body).Files[0].Name);
    }

    [Fact]
    public void ThePlatformRecordsBodyIsPinned()
    {
        var r = new HvmPlatformRecord { Sources = 1, Contexts = 1, Priority = [0, 7], SourceFlags = [0, 5], Enable = [2], Threshold = [1], DeviceModel = true };
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        r.Write(ref w);
        w.Flush();

        // [sources, contexts, [priorities], flags bin, [enables], [thresholds], device model]
        Assert.Equal("970101920007C402000591029101C3", Convert.ToHexString(buffer.WrittenSpan));
    }

    [Theory]
    [InlineData("foreign-name")]
    [InlineData("path")]
    [InlineData("duplicate")]
    [InlineData("unnamed")]
    [InlineData("not-an-array")]
    public void AGarbledDeviceModelRecordWithAGoodChecksumIsRefusedNamingIt(string how)
    {
        var body = how switch
        {
            "foreign-name" => Body((ref MessagePackWriter w) => { w.WriteArrayHeader(2); w.Write(DeviceModelRecord.QemuDm); w.WriteArrayHeader(1); w.WriteArrayHeader(2); w.Write("uart$"); w.Write(new byte[] { 1 }); }),
            "path" => Body((ref MessagePackWriter w) => { w.WriteArrayHeader(2); w.Write(DeviceModelRecord.QemuDm); w.WriteArrayHeader(1); w.WriteArrayHeader(2); w.Write("../../etc/passwd"); w.Write(new byte[] { 1 }); }),
            "duplicate" => Body((ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(2);
                w.Write(DeviceModelRecord.QemuDm);
                w.WriteArrayHeader(2);
                for (var i = 0; i < 2; i++)
                {
                    w.WriteArrayHeader(2);
                    w.Write("uart");
                    w.Write(new byte[] { 1 });
                }
            }),
            "unnamed" => Body((ref MessagePackWriter w) => { w.WriteArrayHeader(2); w.Write(string.Empty); w.WriteArrayHeader(0); }),
            _ => Body((ref MessagePackWriter w) => w.Write(42)),
        };
        var bytes = Replace(SampleImage.Bytes(), ImageRecordKind.DeviceModel, body);
        var e = Assert.Throws<DomainImageException>(() => SampleImage.Read(bytes));
        Assert.Equal(DomainImageError.Malformed, e.Error);
        Assert.Equal(ImageRecordKind.DeviceModel, e.Kind);
        Assert.Contains("DeviceModel", e.Message, StringComparison.Ordinal);

        // The toolstack's pass over the file refuses it the same way, before it creates anything.
        var again = Assert.Throws<DomainImageException>(() => DomainImageReader.ReadDeviceModel(new MemoryStream(bytes)));
        Assert.Equal((DomainImageError.Malformed, ImageRecordKind.DeviceModel, e.Index), (again.Error, again.Kind, again.Index));
    }

    [Fact]
    public void APlicRecordThatDoesNotFitItsDomainOrSaysImpossibleThingsIsRefused()
    {
        var good = SampleImage.Platform();
        foreach (var bad in new[]
        {
            good with { Contexts = 3, Threshold = [0, 0, 0], Enable = new uint[9] }, // 3 contexts for 2 vCPUs
            good with { Priority = [.. good.Priority.Select((p, i) => i == 5 ? 8u : p)] }, // priority 8
            good with { SourceFlags = [.. good.SourceFlags.Select((f, i) => i == 5 ? (byte)8 : f)] }, // an unknown flag
            good with { Enable = [1, 2, 3] }, // too few words
        })
        {
            var e = Assert.Throws<DomainImageException>(() => SampleImage.Read(Replace(SampleImage.Bytes(), ImageRecordKind.HvmPlatform, Write(bad))));
            Assert.Equal((DomainImageError.Malformed, ImageRecordKind.HvmPlatform), (e.Error, e.Kind));
        }
    }

    [Fact]
    public void ADeviceModelRecordWithoutAPlatformIsOutOfSequence()
    {
        var bytes = SampleImage.Bytes();
        var starts = SampleImage.RecordStarts(bytes);
        var at = starts.SkipLast(1).First(s => SampleImage.KindAt(bytes, s) == ImageRecordKind.HvmPlatform);
        var next = starts[starts.IndexOf(at) + 1];
        var without = Renumber([.. bytes[..at], .. bytes[next..]]);
        var e = Assert.Throws<DomainImageException>(() => SampleImage.Read(without));
        Assert.Equal((DomainImageError.BadSequence, ImageRecordKind.DeviceModel), (e.Error, e.Kind));
    }

    private delegate void BodyWriter(ref MessagePackWriter w);

    private static byte[] Body(BodyWriter write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        write(ref w);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Write(HvmPlatformRecord r)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        r.Write(ref w);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The image with the body of its <paramref name="kind"/> record replaced, framed and checksummed as a writer would.</summary>
    private static byte[] Replace(byte[] image, ImageRecordKind kind, byte[] body)
    {
        var starts = SampleImage.RecordStarts(image);
        var i = starts.FindIndex(s => s < image.Length && SampleImage.KindAt(image, s) == kind);
        var frame = new byte[ImageFrame.HeaderSize];
        ImageFrame.WriteHeader(frame, kind, body, i);
        return [.. image[..starts[i]], .. frame, .. body, .. image[starts[i + 1]..]];
    }

    /// <summary>Re-frames every record with its new index (after one was dropped) and the end record's count, so only the sequence is wrong.</summary>
    private static byte[] Renumber(byte[] image)
    {
        var starts = SampleImage.RecordStarts(image);
        var output = new List<byte>();
        for (var i = 0; i < starts.Count - 1; i++)
        {
            var kind = SampleImage.KindAt(image, starts[i]);
            var body = kind == ImageRecordKind.End ? Body((ref MessagePackWriter w) => { w.WriteArrayHeader(1); w.Write(i); }) : image[(starts[i] + 16)..starts[i + 1]];
            var frame = new byte[ImageFrame.HeaderSize];
            ImageFrame.WriteHeader(frame, kind, body, i);
            output.AddRange(frame);
            output.AddRange(body);
        }

        return [.. output];
    }
}
