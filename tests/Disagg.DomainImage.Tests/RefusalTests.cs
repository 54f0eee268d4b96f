using System.Buffers.Binary;

namespace Disagg.DomainImage.Tests;

/// <summary>Every way an image can be wrong is refused by the reader, naming the record, before a caller could create anything.</summary>
public sealed class RefusalTests
{
    private static DomainImageException Refused(byte[] bytes) => Assert.Throws<DomainImageException>(() => SampleImage.Read(bytes));

    [Fact]
    public void ABitFlipInAnyRecordIsRefusedNamingThatRecord()
    {
        var bytes = SampleImage.Bytes();
        var starts = SampleImage.RecordStarts(bytes);
        var kinds = new HashSet<ImageRecordKind>();
        for (var i = 0; i < starts.Count - 1; i++)
        {
            var kind = SampleImage.KindAt(bytes, starts[i]);
            kinds.Add(kind);
            foreach (var offset in new[] { 8, 15, 16, (starts[i + 1] - starts[i] + 16) / 2, starts[i + 1] - starts[i] - 1 })
            {
                var bad = (byte[])bytes.Clone();
                bad[starts[i] + offset] ^= 0x10;
                var e = Refused(bad);
                Assert.Equal(DomainImageError.ChecksumMismatch, e.Error);
                Assert.Equal(kind, e.Kind);
                Assert.Equal(i, e.Index);
            }
        }

        Assert.Equal(Enum.GetValues<ImageRecordKind>().ToHashSet(), kinds);
    }

    [Fact]
    public void TruncationAtEveryRecordBoundaryAndInsideEveryRecordIsRefused()
    {
        var bytes = SampleImage.Bytes();
        var starts = SampleImage.RecordStarts(bytes);
        for (var i = 0; i < starts.Count - 1; i++)
        {
            foreach (var cut in new[] { starts[i], starts[i] + 7, starts[i] + 16 + ((starts[i + 1] - starts[i] - 16) / 2) })
            {
                var e = Refused(bytes[..cut]);
                Assert.Equal(DomainImageError.Truncated, e.Error);
                Assert.Equal(i, e.Index);
            }
        }
    }

    [Fact]
    public void WrongMagicIsAForeignImage()
    {
        var e = Refused(WithHeader(new ImageHeader { Isa = ImageIsa.Rv64, Magic = 0x4D49_4747_4153_4945 }));
        Assert.Equal(DomainImageError.ForeignImage, e.Error);
        Assert.Equal(ImageRecordKind.Header, e.Kind);
    }

    [Fact]
    public void AnotherFormatVersionIsRefused()
    {
        var e = Refused(WithHeader(new ImageHeader { Isa = ImageIsa.Rv64, Version = ImageHeader.CurrentVersion + 1 }));
        Assert.Equal(DomainImageError.UnsupportedVersion, e.Error);
        Assert.Equal(0, e.Index);
    }

    [Fact]
    public void AnUnknownIsaWidthOrPageSizeIsMalformed()
    {
        Assert.Equal(DomainImageError.Malformed, Refused(WithHeader(new ImageHeader { Isa = (ImageIsa)128 })).Error);
        Assert.Equal(DomainImageError.Malformed, Refused(WithHeader(new ImageHeader { Isa = ImageIsa.Rv64, PageSize = 16384 })).Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("name = \"guest\"\nmemory = 256\nvcpus = 2\n")]
    [InlineData("\x7f" + "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\xf3\0")]
    public void AFileThatIsNotAnImageIsForeign(string text)
    {
        var e = Refused(System.Text.Encoding.Latin1.GetBytes(text));
        Assert.Equal(text.Length == 0 ? DomainImageError.Truncated : DomainImageError.ForeignImage, e.Error);
        Assert.Equal(0, e.Index);
    }

    [Fact]
    public void ARecordClaimingAHugeLengthIsRefusedWithoutAllocatingIt()
    {
        // The attack: an image from an untrusted source (a migration peer, a downloaded save file) whose
        // frame header claims 4 GiB, so that a reader allocating by the length field exhausts the host
        // before the checksum could ever refuse the record.
        var bytes = SampleImage.Bytes();
        var starts = SampleImage.RecordStarts(bytes);
        for (var i = 0; i < starts.Count - 1; i++)
        {
            var bad = (byte[])bytes.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(bad.AsSpan(starts[i]), 0xFFFF_FFF0);
            var before = GC.GetAllocatedBytesForCurrentThread();
            var e = Refused(bad);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20, "the reader allocated by the forged length");
            Assert.Equal(DomainImageError.RecordTooLarge, e.Error);
            Assert.Equal(SampleImage.KindAt(bytes, starts[i]), e.Kind);
            Assert.Equal(i, e.Index);
        }
    }

    [Fact]
    public void SwappedRecordsFailTheirChecksums()
    {
        var bytes = SampleImage.Bytes();
        var s = SampleImage.RecordStarts(bytes);

        // Records 2 and 3 are the two vCPUs, the same length: swapping them keeps every frame well-formed.
        Assert.Equal(s[3] - s[2], s[4] - s[3]);
        var swapped = bytes[..s[2]].Concat(bytes[s[3]..s[4]]).Concat(bytes[s[2]..s[3]]).Concat(bytes[s[4]..]).ToArray();
        var e = Refused(swapped);
        Assert.Equal(DomainImageError.ChecksumMismatch, e.Error);
        Assert.Equal(2, e.Index);
    }

    [Fact]
    public void BytesAfterTheEndAreRefused()
    {
        var bytes = SampleImage.Bytes();
        var e = Refused([.. bytes, 0]);
        Assert.Equal(DomainImageError.BadSequence, e.Error);
        Assert.Equal(ImageRecordKind.End, e.Kind);
    }

    [Fact]
    public void AWellChecksummedMemoryRecordThatDoesNotDecompressIsMalformed()
    {
        var e = Refused(Forged(w => w.Write(new MemoryRecord { FirstFrame = 0x80000, PageCount = 2, Compressed = [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3] })));
        Assert.Equal(DomainImageError.Malformed, e.Error);
        Assert.Equal(ImageRecordKind.Memory, e.Kind);
        Assert.Equal(4, e.Index);
    }

    [Fact]
    public void AMissingVcpuRecordIsRefusedAtTheEnd()
    {
        using var stream = new MemoryStream();
        var w = new DomainImageWriter(stream);
        w.Write(new ImageHeader { Isa = ImageIsa.Rv64 });
        w.Write(new DomainRecord { Name = "d", Vcpus = 1, MaxVcpus = 2, OnlineVcpus = 1, TargetPages = 1, MaxPages = 1, PageLimit = 1 });
        w.Write(SampleImage.Vcpu(0, 1));
        w.Write(new EventChannelsRecord([]));
        w.Write(new GrantTableRecord(1, new byte[4096]));
        w.Finish();
        var e = Refused(stream.ToArray());
        Assert.Equal(DomainImageError.BadSequence, e.Error);
        Assert.Equal(ImageRecordKind.End, e.Kind);
    }

    [Fact]
    public void RecordsOutOfOrderAreRefused()
    {
        using var stream = new MemoryStream();
        var w = new DomainImageWriter(stream);
        w.Write(new ImageHeader { Isa = ImageIsa.Rv64 });
        w.Write(new DomainRecord { Name = "d", Vcpus = 1, MaxVcpus = 1, OnlineVcpus = 1, TargetPages = 1, MaxPages = 1, PageLimit = 1 });
        w.Write(new EventChannelsRecord([]));
        w.Write(SampleImage.Vcpu(0, 1));
        var e = Refused(stream.ToArray());
        Assert.Equal(DomainImageError.BadSequence, e.Error);
        Assert.Equal(ImageRecordKind.Vcpu, e.Kind);
        Assert.Equal(3, e.Index);
    }

    private static byte[] WithHeader(ImageHeader header)
    {
        using var stream = new MemoryStream();
        var w = new DomainImageWriter(stream);
        w.Write(header);
        w.Finish();
        return stream.ToArray();
    }

    /// <summary>A well-framed image (every checksum right) with one forged record after the vCPUs.</summary>
    private static byte[] Forged(Action<DomainImageWriter> forge)
    {
        using var stream = new MemoryStream();
        var w = new DomainImageWriter(stream);
        w.Write(new ImageHeader { Isa = ImageIsa.Rv64 });
        w.Write(new DomainRecord { Name = "d", Vcpus = 2, MaxVcpus = 2, OnlineVcpus = 2, TargetPages = 4, MaxPages = 4, PageLimit = 4 });
        w.Write(SampleImage.Vcpu(0, 1));
        w.Write(SampleImage.Vcpu(1, 1));
        forge(w);
        w.Write(new EventChannelsRecord([]));
        w.Write(new GrantTableRecord(1, new byte[4096]));
        w.Finish();
        return stream.ToArray();
    }
}
