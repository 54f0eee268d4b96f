using Disagg.DiskImage;

namespace Disagg.DiskImage.Tests;

/// <summary>
/// Random reads, writes and discards (offsets and lengths unaligned to clusters) against an
/// in-memory model: every read matches the model, and at the end qemu-img compare agrees
/// with the model and qemu-img check finds nothing wrong.
/// </summary>
public sealed class RandomIoPropertyTests : IDisposable
{
    private readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("qcow2", 16, false, 1)]
    [InlineData("qcow2", 12, false, 2)]
    [InlineData("qcow2", 9, false, 3)]
    [InlineData("qcow2", 16, true, 4)]
    [InlineData("qcow2", 12, true, 5)]
    [InlineData("raw", 0, false, 6)]
    public void RandomIoMatchesTheModelAndQemu(string format, int clusterBits, bool withBacking, int seed)
    {
        const int size = 12 << 20;
        var path = _dir.File("d." + format);
        var expected = _dir.File("expected.raw");
        var model = new byte[size];
        if (withBacking)
        {
            var basePath = _dir.File("base.qcow2");
            Qemu.Create(basePath, "qcow2", "10M");
            Qemu.Io(basePath, "qcow2", "write -P 0x5c 0 3M", "write -P 0xc5 5M 5M");
            Array.Fill(model, (byte)0x5c, 0, 3 << 20);
            Array.Fill(model, (byte)0xc5, 5 << 20, 5 << 20);
            DiskImages.CreateQcow2(path, size, "base.qcow2", DiskImageFormat.Qcow2, clusterBits);
        }
        else if (format == "raw")
        {
            DiskImages.CreateRaw(path, size);
        }
        else
        {
            DiskImages.CreateQcow2(path, size, clusterBits: clusterBits);
        }

        var random = new Random(seed);
        var buffer = new byte[600 * 1024];
        var kind = format == "raw" ? DiskImageFormat.Raw : DiskImageFormat.Qcow2;
        var image = DiskImages.Open(path, kind, readOnly: false);
        try
        {
            for (var op = 0; op < 1500; op++)
            {
                var count = random.Next(4) == 0 ? random.Next(1, buffer.Length / 512) : random.Next(1, 20);
                var sector = random.NextInt64(0, (size / 512) - count + 1);
                var span = buffer.AsSpan(0, count * 512);
                switch (random.Next(10))
                {
                    case < 5:
                        random.NextBytes(span);
                        image.Write(sector, span);
                        span.CopyTo(model.AsSpan((int)(sector * 512)));
                        break;
                    case < 9:
                        image.Read(sector, span);
                        if (!span.SequenceEqual(model.AsSpan((int)(sector * 512), span.Length)))
                        {
                            Assert.Fail($"op {op}: read of sectors {sector}+{count} differs from the model");
                        }

                        break;
                    default:
                        Qcow2ImageTests.Discard(image, model, sector, count);
                        break;
                }

                if (op % 500 == 499)
                {
                    // Reopen: everything must come back from the file, not from caches.
                    image.Dispose();
                    image = DiskImages.Open(path, kind, readOnly: false);
                }
            }

            Qcow2ImageTests.AssertReads(image, model);
        }
        finally
        {
            image.Dispose();
        }

        File.WriteAllBytes(expected, model);
        if (format == "qcow2")
        {
            Qemu.AssertClean(path);
        }

        Qemu.AssertSameContent(path, format, expected);
    }
}
