using System.Globalization;

namespace Disagg.Xenbus;

/// <summary>
/// Where the xenbus handshake lives (spec: xenbus): a frontend's directory under its own domain,
/// /local/domain/FE/device/TYPE/DEVID, and the backend's under the backend domain,
/// /local/domain/BE/backend/TYPE/FE/DEVID. TYPE is "vbd" for disks, "vif" for network.
/// </summary>
public static class XenbusPaths
{
    public static string Domain(int domid) => "/local/domain/" + N(domid);

    public static string Frontend(int frontendDomain, string type, int devid) => $"{Domain(frontendDomain)}/device/{type}/{N(devid)}";

    /// <summary>The directory a backend domain watches for its devices of one type.</summary>
    public static string BackendRoot(int backendDomain, string type) => $"{Domain(backendDomain)}/backend/{type}";

    public static string Backend(int backendDomain, string type, int frontendDomain, int devid) => $"{BackendRoot(backendDomain, type)}/{N(frontendDomain)}/{N(devid)}";

    /// <summary>
    /// Splits a path under <see cref="BackendRoot"/> into its frontend domain and device id, if it names one
    /// (the device directory itself or anything below it).
    /// </summary>
    public static bool TryParseBackend(string path, int backendDomain, string type, out int frontendDomain, out int devid)
    {
        frontendDomain = devid = -1;
        var root = BackendRoot(backendDomain, type) + "/";
        if (!path.StartsWith(root, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = path[root.Length..].Split('/');
        return parts.Length >= 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out frontendDomain)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out devid);
    }

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
}
