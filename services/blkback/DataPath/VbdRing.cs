using Disagg.Abi.Io;
using Disagg.DiskImage;
using Disagg.Ring;

namespace Disagg.Blkback.DataPath;

/// <summary>
/// A connected virtual block device as the I/O loop sees it: the frontend's ring (mapped by the owner, who
/// keeps the mapping alive until the loop has let go of the device), our end of its event channel and the
/// image. Everything here is touched by the loop thread only, except <see cref="RunSlowOperation"/>, which
/// a worker runs for one request while the loop does not touch that request.
/// </summary>
internal sealed unsafe class VbdRing
{
    public VbdRing(string name, int frontendDomain, byte* ringPage, int ringBytes, bool resume, int port, IDiskImage image, int maxIndirectSegments)
    {
        Name = name;
        FrontendDomain = frontendDomain;
        Ring = resume
            ? BackRing<BlkifRequest, BlkifResponse>.Resume(name, ringPage, ringBytes)
            : BackRing<BlkifRequest, BlkifResponse>.Attach(name, ringPage, ringBytes);
        Port = port;
        Image = image;
        ReadOnly = image.ReadOnly;
        Sectors = image.SectorCount;
        MaxIndirectSegments = maxIndirectSegments;
    }

    /// <summary>"vbd FE/DEVID", for logs and errors.</summary>
    public string Name { get; }

    public int FrontendDomain { get; }

    /// <summary>The device id under the frontend domain, so a fault names its device.</summary>
    public int DeviceId { get; init; }

    public BackRing<BlkifRequest, BlkifResponse> Ring { get; }

    public int Port { get; }

    public IDiskImage Image { get; }

    public bool ReadOnly { get; }

    public long Sectors { get; }

    public int MaxIndirectSegments { get; }

    public VbdCounters Counters { get; } = new();

    /// <summary>Requests taken from the ring and not yet answered.</summary>
    internal int InFlight { get; set; }

    /// <summary>Flushes, barriers and discards running on workers.</summary>
    internal int SlowInFlight { get; set; }

    /// <summary>A write barrier was taken: nothing after it is taken until it is answered (blkif barrier ordering).</summary>
    internal bool BarrierBlocked { get; set; }

    /// <summary>A barrier waiting for the slow operations before it to finish.</summary>
    internal IoRequest? HeldBarrier { get; set; }

    internal bool ResponsesToPush { get; set; }

    /// <summary>Set when the owner asked the loop to let go; completes once nothing is in flight.</summary>
    internal TaskCompletionSource? Detached { get; set; }

    /// <summary>Why the loop stopped serving the ring (a lying frontend), or null.</summary>
    public string? FaultReason { get; internal set; }

    internal bool Serving => Detached is null && FaultReason is null;

    /// <summary>Worker thread: the operations that wait for the disk. Acknowledged only after fdatasync returned.</summary>
    public void RunSlowOperation(IoRequest request)
    {
        try
        {
            switch (request.Kind)
            {
                case BlkifOperation.FlushDiskcache:
                case BlkifOperation.WriteBarrier:
                    if (!ReadOnly)
                    {
                        Image.Flush();
                    }

                    break;
                case BlkifOperation.Discard:
                    if (request.Sectors > 0)
                    {
                        Image.Discard(request.Sector, request.Sectors);
                    }

                    break;
                default:
                    throw new InvalidOperationException($"{Name}: {request.Kind} is not a slow operation");
            }
        }
        catch (IOException e)
        {
            request.Fail(BlkifResponse.StatusError, e.Message);
        }
    }
}
