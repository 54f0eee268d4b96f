using Disagg.Blkback.DataPath;
using Disagg.DiskImage;
using Disagg.Xenbus.Backend;

namespace Disagg.Blkback.Xenbus;

/// <summary>
/// One virtual block device as blkback tracks it: its xenbus address, the toolstack's configuration, the open
/// image and, while connected, the frontend's link and the I/O loop's ring. Changed on the backend's control task
/// only; other threads (the status file) read it through <see cref="XenbusBackend{TDevice, TConnection}.Devices"/>.
/// </summary>
internal sealed class Vbd(XenbusDevice address, VbdConfig config, IDiskImage image)
{
    public XenbusDevice Address { get; } = address;

    public int FrontendDomain => Address.FrontendDomain;

    public int DeviceId => Address.DeviceId;

    public VbdConfig Config { get; } = config;

    public IDiskImage Image { get; } = image;

    public FrontendLink? Link { get; set; }

    public VbdRing? Ring { get; set; }

    /// <summary>The counters of the last connection, kept for the status file while disconnected.</summary>
    public VbdCounters? LastCounters { get; set; }

    public VbdCounters? Counters => Ring?.Counters ?? LastCounters;

    public bool Connected => Ring is not null;
}
