using Disagg.DiskImage;
using Disagg.Toolstack.Config;

namespace Disagg.Toolstack.Daemon.Guests;

/// <summary>
/// A disk's image is opened once, read-only, with the library blkback serves it with, before a
/// domain is created: a missing file, a directory, or a file that is not the format its spec
/// claims is refused then, in one line, instead of a guest running without its disk and the
/// reason only in blkback's log. (block-attach needs no such check: it waits for the backend to
/// take the device and reports blkback's own refusal.)
/// </summary>
internal static class DiskImageCheck
{
    /// <summary>Why the disk cannot be served ("disk xvda: image /a/b.qcow2 (qcow2): ..."), or null when it can.</summary>
    public static string? Refusal(DiskSpec disk)
    {
        if (disk.Cdrom && disk.Target.Length == 0)
        {
            return null; // an empty CD-ROM drive: no medium to check
        }

        var what = $"disk {disk.Vdev}: image {disk.Target} ({disk.Format.ToString().ToLowerInvariant()})";
        if (Directory.Exists(disk.Target))
        {
            return $"{what}: is a directory";
        }

        if (!File.Exists(disk.Target))
        {
            return $"{what}: does not exist";
        }

        try
        {
            using var image = DiskImages.Open(disk.Target, disk.Format == DiskFormat.Qcow2 ? DiskImageFormat.Qcow2 : DiskImageFormat.Raw, readOnly: true);
            return null;
        }
        catch (DiskImageException e)
        {
            return $"{what}: {e.Reason}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{what}: {e.Message}";
        }
    }

    /// <summary>The first refusal among a domain's disks, as an error naming the domain.</summary>
    public static void Require(string domain, IEnumerable<DiskSpec> disks)
    {
        foreach (var disk in disks)
        {
            if (Refusal(disk) is { } reason)
            {
                throw new DomainOperationException(domain, reason);
            }
        }
    }
}
