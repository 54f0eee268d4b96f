using System.Collections.Concurrent;
using Disagg.Blkback.DataPath;
using Disagg.DiskImage;

namespace Disagg.Blkback.Service.Tests;

/// <summary>An I/O loop on an in-process channel with devices over real image files in a temp directory; torn down always.</summary>
internal sealed unsafe class LoopHarness : IDisposable
{
    private readonly List<(RingFrontend Frontend, VbdRing Ring)> _devices = [];

    public LoopHarness(int bufferPages = 1024, int maxIndirect = 32)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("disagg-blkback-loop-").FullName;
        Channel = new InProcessChannel(bufferPages);
        Loop = new IoLoop(Channel, maxIndirect, r => Faulted.Enqueue(r), e => Failures.Enqueue(e));
        Loop.Start();
    }

    public string Directory { get; }

    public InProcessChannel Channel { get; }

    public IoLoop Loop { get; }

    public ConcurrentQueue<VbdRing> Faulted { get; } = new();

    public ConcurrentQueue<Exception> Failures { get; } = new();

    public string File(string name) => Path.Combine(Directory, name);

    /// <summary>A raw image of <paramref name="bytes"/> served to frontend domain <paramref name="domain"/>.</summary>
    public (RingFrontend Frontend, VbdRing Ring) AddRaw(int domain, long bytes = 8 << 20, bool readOnly = false, string? name = null)
    {
        var path = File(name ?? $"disk{domain}.img");
        if (!System.IO.File.Exists(path))
        {
            DiskImages.CreateRaw(path, bytes);
        }

        return Add(domain, DiskImages.Open(path, DiskImageFormat.Raw, readOnly));
    }

    public (RingFrontend Frontend, VbdRing Ring) Add(int domain, IDiskImage image)
    {
        var port = 10 + domain;
        var frontend = new RingFrontend(Channel, domain, port, dataPages: 64);
        var ring = new VbdRing($"vbd {domain}/0", domain, frontend.RingPage, RingFrontend.PageSize, resume: false, port, image, Loop.MaxIndirectSegments);
        Loop.Attach(ring);
        _devices.Add((frontend, ring));
        return (frontend, ring);
    }

    public void Dispose()
    {
        foreach (var (_, ring) in _devices)
        {
            Loop.DetachAsync(ring).Wait(TimeSpan.FromSeconds(10));
        }

        Loop.Dispose();
        foreach (var (frontend, ring) in _devices)
        {
            ring.Image.Dispose();
            frontend.Dispose();
        }

        Channel.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
