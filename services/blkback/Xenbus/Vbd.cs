using Disagg.Abi.Io;
using Disagg.Blkback.DataPath;
using Disagg.DiskImage;

namespace Disagg.Blkback.Xenbus;

/// <summary>One virtual block device as the xenbus side tracks it: its directories, image, link and state.</summary>
internal sealed class Vbd(int frontendDomain, int deviceId, string backendPath)
{
    public int FrontendDomain { get; } = frontendDomain;

    public int DeviceId { get; } = deviceId;

    public string BackendPath { get; } = backendPath;

    public string Name => $"vbd {FrontendDomain}/{DeviceId}";

    public VbdConfig? Config { get; set; }

    public IDiskImage? Image { get; set; }

    /// <summary>What we last wrote to the error node (set up or connect refused, ring fault), so a repeat is not rewritten.</summary>
    public string? ErrorWritten { get; set; }

    /// <summary>The frontend state path we watch, once watched.</summary>
    public string? WatchedFrontend { get; set; }

    public FrontendLink? Link { get; set; }

    public VbdRing? Ring { get; set; }

    /// <summary>The counters of the last connection, kept for the status file while disconnected.</summary>
    public VbdCounters? LastCounters { get; set; }

    /// <summary>What we last wrote to our state node (Unknown before this process wrote anything).</summary>
    public XenbusState State { get; set; }

    /// <summary>The frontend state seen at the last reconcile: a Connected frontend going back to Initialised re-initialised its ring.</summary>
    public XenbusState LastFrontendState { get; set; }
}
