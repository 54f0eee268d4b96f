using Disagg.DiskImage;

// The crash-consistency test's victim: writes and discards random sector ranges of a qcow2
// image until it is SIGKILLed. Before each operation it prints its intent ("W seq sector count"
// or "D seq sector count"), after it returns "A seq"; Console.Out flushes every line, so what the
// test reads is exactly what had happened when the kill landed. Sector s written by operation
// seq holds the 64-bit word (seq << 32 | s) repeated, so the test can tell every write apart.
// usage: Disagg.DiskImage.Writer IMAGE SEED
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Disagg.DiskImage.Writer IMAGE SEED");
    return 2;
}

var random = new Random(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
using var image = DiskImages.Open(args[0], DiskImageFormat.Qcow2, readOnly: false);
var buffer = new byte[512 * 1024];
Console.WriteLine("ready");
for (var seq = 1L; ; seq++)
{
    var count = random.Next(1, buffer.Length / IDiskImage.SectorSize + 1);
    if (random.Next(4) == 0)
    {
        count = random.Next(1, 9); // small, unaligned writes: the copy-on-write path
    }

    var sector = random.NextInt64(0, image.SectorCount - count + 1);
    if (random.Next(10) == 0)
    {
        Console.WriteLine($"D {seq} {sector} {count}");
        image.Discard(sector, count);
    }
    else
    {
        var span = buffer.AsSpan(0, count * IDiskImage.SectorSize);
        for (var i = 0; i < count; i++)
        {
            var word = ((ulong)seq << 32) | (uint)(sector + i);
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(span.Slice(i * IDiskImage.SectorSize, IDiskImage.SectorSize)).Fill(word);
        }

        Console.WriteLine($"W {seq} {sector} {count}");
        image.Write(sector, span);
    }

    Console.WriteLine($"A {seq}");
    if (random.Next(50) == 0)
    {
        image.Flush();
    }
}
