using System.Diagnostics;
using Disagg.Toolstack.Config;

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
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(2);

    /// <summary>Waits until no one holds a writable disk of <paramref name="disks"/>; returns the disks still held at <paramref name="timeout"/>.</summary>
    public static async Task<IReadOnlyList<string>> WaitReleasedAsync(IEnumerable<DiskSpec> disks, TimeSpan timeout, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var held = disks.Where(d => !d.ReadOnly && !d.Cdrom && d.Target.Length > 0).Select(d => d.Target).Distinct().ToList();
        while (true)
        {
            held.RemoveAll(Free);
            if (held.Count == 0 || clock.Elapsed > timeout)
            {
                return held;
            }

            await Task.Delay(Poll, cancel).ConfigureAwait(false);
        }
    }

    /// <summary>The exclusive flock blkback takes for a writable disk (ImageFile.Open): got and let go at once, or not got.</summary>
    private static bool Free(string path)
    {
        try
        {
            File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
            return true;
        }
        catch (FileNotFoundException)
        {
            return true; // nothing to hand over; the target's blkback says so
        }
        catch (IOException)
        {
            return false; // EWOULDBLOCK: blkback still has it open
        }
    }
}
