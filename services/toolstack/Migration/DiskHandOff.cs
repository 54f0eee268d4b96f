using Disagg.Toolstack.Config;
using Disagg.Toolstack.Daemon.Guests;

namespace Disagg.Toolstack.Migration;

/// <summary>
/// The source's half of handing a guest's disks over (docs/SAVE-RESTORE.md, "Live migration"): after its copy
/// was destroyed, the source waits until its blkback has closed every writable disk. blkback opens a writable
/// image with an exclusive flock and closes it only after fdatasync returned (VbdDriver.ForgetAsync), so taking
/// the same lock here proves every write it acknowledged is durable; only then may the target's blkback open
/// the disk (it would be refused as Locked before). Disks are on storage both hosts see, as Xen assumes.
/// </summary>
internal static class DiskHandOff
{
    /// <summary>Waits until no one holds a writable disk of <paramref name="disks"/>; returns the disks still held at <paramref name="timeout"/>.</summary>
    public static Task<IReadOnlyList<string>> WaitReleasedAsync(IEnumerable<DiskSpec> disks, TimeSpan timeout, CancellationToken cancel) =>
        DiskWriter.WaitFreeAsync(disks, timeout, cancel);
}
