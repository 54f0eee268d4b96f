using Disagg.Blkback.DataPath;

namespace Disagg.Blkback.Xenbus;

/// <summary>
/// One device as the control task last published it (<see cref="VbdBackend.Devices"/>): immutable, so other
/// threads (the status file's timer, the stop log) read it without racing the control task's device table.
/// <see cref="Counters"/> and <see cref="Ring"/>'s in-flight count stay the I/O loop's, read without a lock.
/// </summary>
internal sealed record VbdSnapshot(int FrontendDomain, int DeviceId, VbdConfig? Config, VbdRing? Ring, VbdCounters? Counters)
{
    public bool Connected => Ring is not null;
}
