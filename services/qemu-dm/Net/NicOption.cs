using System.Globalization;

namespace Disagg.QemuDm.Net;

/// <summary>
/// One `--nic mac=MAC,bridge=NAME[,backend=NETBACK]`: a virtio-net device whose frames go through a vif of
/// qemu-dm's own domain on netback's switch. `backend` is the netback's domain id or its service name
/// (xenstore's /local/domain/N/name), netback's built-in domain 2 by default.
/// </summary>
internal sealed record NicOption(string Mac, string Bridge, string Backend)
{
    public const string DefaultBackend = "2";

    public byte[] MacBytes => Convert.FromHexString(Mac.Replace(":", string.Empty, StringComparison.Ordinal));

    public static bool TryParse(string text, out NicOption? nic, out string? error)
    {
        nic = null;
        error = null;
        string? mac = null, bridge = null, backend = null;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? string.Empty : part[(eq + 1)..];
            switch (key)
            {
                case "mac" when IsUnicastMac(value):
                    mac = value.ToLowerInvariant();
                    break;
                case "mac":
                    error = $"qemu-dm: --nic {text}: mac '{value}' is not a unicast MAC address (xx:xx:xx:xx:xx:xx)";
                    return false;
                case "bridge" when value.Length is > 0 and <= 15:
                    bridge = value;
                    break;
                case "backend" when value.Length > 0:
                    backend = value;
                    break;
                default:
                    error = $"qemu-dm: --nic {text}: unknown or empty '{part}' (mac=, bridge=, backend=)";
                    return false;
            }
        }

        if (mac is null || bridge is null)
        {
            error = $"qemu-dm: --nic {text}: mac= and bridge= are required";
            return false;
        }

        nic = new NicOption(mac, bridge, backend ?? DefaultBackend);
        return true;
    }

    private static bool IsUnicastMac(string value)
    {
        var parts = value.Split(':');
        if (parts.Length != 6)
        {
            return false;
        }

        foreach (var p in parts)
        {
            if (p.Length != 2 || !byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _))
            {
                return false;
            }
        }

        return (Convert.ToByte(parts[0], 16) & 1) == 0; // the group bit: a multicast source is spoofing by definition
    }
}
