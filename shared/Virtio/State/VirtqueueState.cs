namespace Disagg.Virtio.State;

/// <summary>
/// One queue's saved registers and indices. <see cref="LastAvail"/> counts only avail entries whose used
/// entry was written (a request taken but not completed is not in it, so it runs again after a restore).
/// </summary>
public readonly record struct VirtqueueState(
    ushort Size,
    bool Ready,
    ulong DescTable,
    ulong AvailRing,
    ulong UsedRing,
    ushort LastAvail,
    ushort UsedIdx);
