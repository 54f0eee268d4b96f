using System.Diagnostics;
using System.Globalization;
using Disagg.Kernel.Core;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Persist;

// Save and restore time per GiB of guest memory, next to a plain write and read of the same bytes to a file in
// the same run (ratio = ours / plain). The guest's memory is a mix: a quarter zero pages, half pages with random
// upper halves (compressible), a quarter random pages. Files stay in the page cache (no fsync on either side):
// the figures measure capture, checksums, compression and copying, not the disk.
// Usage: Disagg.Bench.Save TMPDIR SIZE_MIB
var dir = args[0];
var mib = int.Parse(args[1], CultureInfo.InvariantCulture);
var pages = mib * 256;
var memory = new byte[(long)pages * 4096];
var random = new Random(42);
for (var p = 0; p < pages; p++)
{
    var page = memory.AsSpan(p * 4096, 4096);
    switch (p % 4)
    {
        case 0: break;
        case 3: random.NextBytes(page); break;
        default: random.NextBytes(page[2048..]); break;
    }
}

using var hv = new Hypervisor(1, ((long)mib + 64) << 21);
var domain = hv.CreateDomain(new DomainSpec { Name = "bench", MemoryPages = pages, MaxMemoryPages = pages });
domain.Vcpus[0].Hart.TryWritePhysical(PvLayout.RamBase, memory);
var imagePath = Path.Combine(dir, "guest.img");
var plainPath = Path.Combine(dir, "plain.bin");
var gib = mib / 1024.0;

var watch = Stopwatch.StartNew();
long imageBytes;
using (var file = new FileStream(imagePath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
{
    imageBytes = DomainSave.Write(hv, domain, file);
}

var save = watch.Elapsed.TotalSeconds;
hv.DestroyDomain(domain);

watch.Restart();
double read;
using (var file = new FileStream(imagePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
{
    var image = DomainRestore.Read(file);
    read = watch.Elapsed.TotalSeconds;
    hv.DestroyDomain(DomainRestore.Rebuild(hv, image));
}

var restore = watch.Elapsed.TotalSeconds;

watch.Restart();
using (var file = new FileStream(plainPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
{
    file.Write(memory);
}

var plainWrite = watch.Elapsed.TotalSeconds;
watch.Restart();
using (var file = new FileStream(plainPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
{
    file.ReadExactly(memory);
}

var plainRead = watch.Elapsed.TotalSeconds;

Print("save-per-gib", save / gib, "s", plainWrite / gib, "plain write");
Print("restore-per-gib", restore / gib, "s", plainRead / gib, "plain read");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: save/restore-read-check-per-gib {read / gib:F3} s (of restore: reading and checking the image)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: save/image-size {imageBytes / 1048576.0:F0} MiB for {mib} MiB of guest memory"));

static void Print(string figure, double seconds, string unit, double plain, string what) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: save/{figure} {seconds:F3} {unit} ratio {seconds / plain:F2} vs {what} ({plain:F3} {unit})"));
