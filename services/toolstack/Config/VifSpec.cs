using System.Globalization;

namespace Disagg.Toolstack.Config;

/// <summary>
/// One `vif = [ ... ]` entry (xl-network-configuration(5)): comma-separated key=value pairs.
/// Without mac= the toolstack picks one in Xen's 00:16:3e OUI when the domain is created.
/// </summary>
public sealed record VifSpec(string? Mac, string Bridge, VifRate? Rate, string? Ip, int Mtu)
{
    public const string DefaultBridge = "xenbr0";
    public const int DefaultMtu = 1500;

    /// <summary>xl's backend=: the driver domain (a netback service's name, or its domain id) that serves this vif; null: the host's netback.</summary>
    public string? Backend { get; init; }

    public static VifSpec Parse(string spec, ConfigPosition at)
    {
        string? mac = null;
        string? ip = null;
        var bridge = DefaultBridge;
        VifRate? rate = null;
        var mtu = DefaultMtu;
        string? backend = null;
        foreach (var raw in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = raw.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ConfigException(at, $"vif '{spec}': '{raw}' is not key=value");
            }

            var key = raw[..eq].Trim();
            var value = raw[(eq + 1)..].Trim();
            switch (key)
            {
                case "mac":
                    mac = NormalizeMac(value) ?? throw new ConfigException(at, $"vif '{spec}': mac '{value}' is not six hex octets (aa:bb:cc:dd:ee:ff)");
                    if (mac == "ff:ff:ff:ff:ff:ff")
                    {
                        throw new ConfigException(at, $"vif '{spec}': mac {mac} is the broadcast address; a vif needs a unicast MAC");
                    }

                    if ((Convert.ToByte(mac[..2], 16) & 1) != 0)
                    {
                        // The I/G bit: frames to it go to every port of the bridge, and the guest could not be reached alone.
                        throw new ConfigException(at, $"vif '{spec}': mac {mac} is a multicast address (the low bit of its first octet is set); a vif needs a unicast MAC");
                    }

                    break;
                case "bridge":
                    bridge = value.Length is > 0 and <= 15 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
                        ? value
                        : throw new ConfigException(at, $"vif '{spec}': bridge '{value}' must be 1-15 letters, digits, '-', '_' or '.'");
                    break;
                case "rate":
                    if (!VifRate.TryParse(value, out rate, out var error))
                    {
                        throw new ConfigException(at, $"vif '{spec}': {error}");
                    }

                    break;
                case "ip":
                    ip = value;
                    break;
                case "mtu":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out mtu) || mtu is < 68 or > 65535)
                    {
                        throw new ConfigException(at, $"vif '{spec}': mtu '{value}' must be 68..65535");
                    }

                    break;
                case "backend":
                    backend = DriverDomainName.Valid(value) ? value : throw new ConfigException(at, $"vif '{spec}': backend '{value}' {DriverDomainName.Rule}");
                    break;
                case "type" or "model" or "vifname" or "script" or "gatewayip":
                    break; // accepted as xl does; not used by netback (yet)
                default:
                    throw new ConfigException(at, $"vif '{spec}': unknown key '{key}'");
            }
        }

        return new VifSpec(mac, bridge, rate, ip, mtu) { Backend = backend };
    }

    private static string? NormalizeMac(string s)
    {
        var parts = s.Split(':');
        if (parts.Length != 6)
        {
            return null;
        }

        foreach (var p in parts)
        {
            if (p.Length is < 1 or > 2 || !p.All(char.IsAsciiHexDigit))
            {
                return null;
            }
        }

        return string.Join(':', parts.Select(p => p.PadLeft(2, '0').ToLowerInvariant()));
    }
}
