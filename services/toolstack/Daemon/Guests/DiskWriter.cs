using Disagg.Toolstack.Config;

namespace Disagg.Toolstack.Daemon.Guests;

/// <summary>
/// A writable disk has one writer at a time: blkback opens it with an exclusive flock (ImageFile.Open) and lets
/// go only after fdatasync. Used where a second writer would appear: a restore beside the running original
/// (`save -c`), and a migration's hand-off (Migration/DiskHandOff), which waits for the lock instead.
/// </summary>
internal static class DiskWriter
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(2);

    /// <summary>The guest's disks that are written to (not read-only, not a CD-ROM, with an image).</summary>
    public static IEnumerable<DiskSpec> Writable(IEnumerable<DiskSpec> disks) => disks.Where(d => !d.ReadOnly && !d.Cdrom && d.Target.Length > 0);

    /// <summary>The exclusive flock blkback takes for a writable disk: got and let go at once, or not got.</summary>
    public static bool Free(string path)
    {
        try
        {
            File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
            return true;
        }
        catch (FileNotFoundException)
        {
            return true; // nothing to hold; whoever opens it says so
        }
        catch (IOException)
        {
            return false; // EWOULDBLOCK: a blkback has it open
        }
    }

    /// <summary>Waits until no one holds a writable disk of <paramref name="disks"/>; returns the disks still held at <paramref name="timeout"/>.</summary>
    public static async Task<IReadOnlyList<string>> WaitFreeAsync(IEnumerable<DiskSpec> disks, TimeSpan timeout, CancellationToken cancel)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var held = Writable(disks).Select(d => Path.GetFullPath(d.Target)).Distinct().ToList();
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

    /// <summary>
    /// Refuses <paramref name="domain"/> a writable disk another guest of this host writes to: two writers would
    /// corrupt it (and blkback's exclusive flock would refuse the second one only as "Locked").
    /// </summary>
    public static void RequireNoOtherGuest(string domain, IEnumerable<DiskSpec> disks, IEnumerable<Guest> others)
    {
        foreach (var disk in Writable(disks))
        {
            var path = Path.GetFullPath(disk.Target);
            var user = others.FirstOrDefault(g => Writable(g.Config.Disks).Any(d => Path.GetFullPath(d.Target) == path));
            if (user is not null)
            {
                throw new DomainOperationException(domain, $"disk {disk.Vdev}: {path} is open for writing by domain '{user.Name}' (a writable disk has one writer: destroy or save that domain first, or give this one its own copy of the disk)");
            }
        }
    }

    /// <summary>
    /// Refuses a writable disk whose lock someone still holds after <paramref name="patience"/>: a blkback that is
    /// flushing and closing it (a guest just saved or destroyed) lets go within it; one of another host on the
    /// same storage that still serves a guest does not.
    /// </summary>
    public static async Task RequireUnlockedAsync(string domain, IEnumerable<DiskSpec> disks, TimeSpan patience, CancellationToken cancel)
    {
        var held = await WaitFreeAsync(disks, patience, cancel).ConfigureAwait(false);
        if (held.Count > 0)
        {
            throw new DomainOperationException(domain, $"disk {held[0]} is locked by another writer (a blkback serving another guest holds it)");
        }
    }
}
