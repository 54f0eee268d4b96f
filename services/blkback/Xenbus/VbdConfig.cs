using System.Globalization;
using Disagg.DiskImage;
using Disagg.Xenbus;
using Disagg.Xenbus.Backend;

namespace Disagg.Blkback.Xenbus;

/// <summary>
/// What the toolstack wrote in a device's backend directory (as xl does): the image (params, or target), its
/// format, the access mode, the frontend's directory and domain. Read once when the device appears.
/// </summary>
internal sealed record VbdConfig(string Image, DiskImageFormat Format, bool ReadOnly, string FrontendPath, int FrontendDomain, string? VirtualDevice)
{
    public static async Task<VbdConfig> ReadAsync(XenstoreClient xs, XenbusDevice device, CancellationToken cancel)
    {
        var (backendPath, frontendDomain) = (device.BackendPath, device.FrontendDomain);
        const uint tx = XenstoreClient.NoTransaction;
        var image = await xs.ReadAsync(tx, backendPath + "/params", cancel).ConfigureAwait(false)
            ?? await xs.ReadAsync(tx, backendPath + "/target", cancel).ConfigureAwait(false);
        if (string.IsNullOrEmpty(image))
        {
            throw new XenbusDeviceException(device, "no params (or target): which image?");
        }

        var format = (await xs.ReadAsync(tx, backendPath + "/format", cancel).ConfigureAwait(false) ?? "raw") switch
        {
            "raw" or "" => DiskImageFormat.Raw,
            "qcow2" => DiskImageFormat.Qcow2,
            var other => throw new XenbusDeviceException(device, $"format '{other}' (raw or qcow2)"),
        };
        var readOnly = (await xs.ReadAsync(tx, backendPath + "/mode", cancel).ConfigureAwait(false) ?? "w") switch
        {
            "r" or "ro" => true,
            "w" or "rw" or "" => false,
            var other => throw new XenbusDeviceException(device, $"mode '{other}' (r or w)"),
        };
        var frontend = await xs.ReadAsync(tx, backendPath + "/frontend", cancel).ConfigureAwait(false)
            ?? throw new XenbusDeviceException(device, "no frontend path");
        var frontendId = await xs.ReadAsync(tx, backendPath + "/frontend-id", cancel).ConfigureAwait(false);
        if (frontendId is not null && (!int.TryParse(frontendId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id != frontendDomain))
        {
            // The directory's place names the frontend; a frontend-id that disagrees would let us serve the wrong domain.
            throw new XenbusDeviceException(device, $"frontend-id '{frontendId}' is not the domain the directory is under");
        }

        var vdev = await xs.ReadAsync(tx, backendPath + "/dev", cancel).ConfigureAwait(false);
        return new VbdConfig(image, format, readOnly, frontend, frontendDomain, vdev);
    }
}
