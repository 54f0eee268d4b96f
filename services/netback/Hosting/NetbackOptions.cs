namespace Disagg.Netback.Hosting;

/// <summary>Command line: disagg-netback --xenstore SOCKET --state-dir DIR [--uplink BRIDGE=TAP[:MTU] ...] [--kernel-socket PATH --token T --domain N].</summary>
public sealed record NetbackOptions(string XenstoreSocket, string StateDirectory, IReadOnlyList<(string Bridge, string Tap, int Mtu)> Uplinks, string? KernelSocket, string? Token, int? DomainId)
{
    public const string Usage = "usage: disagg-netback --xenstore SOCKET --state-dir DIR [--uplink BRIDGE=TAP[:MTU] ...] [--kernel-socket PATH --token T --domain N]";

    public static bool TryParse(string[] args, out NetbackOptions? options, out string? error)
    {
        options = null;
        string? xenstore = null, state = null, kernel = null, token = null;
        int? domain = null;
        var uplinks = new List<(string, string, int)>();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            if (value is null)
            {
                error = $"{args[i]} needs a value";
                return false;
            }

            switch (args[i])
            {
                case "--xenstore": xenstore = value; break;
                case "--state-dir": state = value; break;
                case "--kernel-socket": kernel = value; break;
                case "--token": token = value; break;
                case "--domain":
                    if (!int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var d))
                    {
                        error = $"--domain {value}: not a number";
                        return false;
                    }

                    domain = d;
                    break;
                case "--uplink":
                    if (!TryParseUplink(value, out var uplink))
                    {
                        error = $"--uplink {value}: expected BRIDGE=TAP or BRIDGE=TAP:MTU";
                        return false;
                    }

                    uplinks.Add(uplink);
                    break;
                default:
                    error = $"unknown argument {args[i]}";
                    return false;
            }

            i++;
        }

        if (xenstore is null || state is null)
        {
            error = "--xenstore and --state-dir are required";
            return false;
        }

        if ((kernel is null) != (token is null) || (kernel is not null && domain is null))
        {
            error = "--kernel-socket, --token and --domain go together (or come from DISAGG_KERNEL_SOCKET, DISAGG_SERVICE_TOKEN, DISAGG_DOMAIN_ID)";
            return false;
        }

        options = new NetbackOptions(xenstore, state, uplinks, kernel, token, domain);
        error = null;
        return true;
    }

    private static bool TryParseUplink(string text, out (string Bridge, string Tap, int Mtu) uplink)
    {
        uplink = default;
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || eq == text.Length - 1)
        {
            return false;
        }

        var tap = text[(eq + 1)..];
        var mtu = Uplink.TapUplink.DefaultMtu;
        var colon = tap.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            if (!int.TryParse(tap.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out mtu) || mtu < 68 || mtu > DataPath.VifSettings.MaxMtu)
            {
                return false;
            }

            tap = tap[..colon];
        }

        uplink = (text[..eq], tap, mtu);
        return tap.Length is > 0 and < 16;
    }
}
