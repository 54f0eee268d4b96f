namespace Disagg.Toolstack.Config;

/// <summary>
/// One `disk = [ ... ]` entry in xl-disk-configuration(5) terms. Parsed from either form:
/// key=value ("format=raw, vdev=xvda, access=rw, target=/path") or positional
/// ("/path,raw,xvda,rw"), plus the legacy prefixed form ("file:/path,xvda,w").
/// </summary>
public sealed record DiskSpec(string Target, DiskFormat Format, string Vdev, bool ReadOnly, bool Cdrom, bool Discard)
{
    /// <summary>xl's backend=: the driver domain (a blkback service's name, or its domain id) that serves this disk; null: the host's blkback.</summary>
    public string? Backend { get; init; }

    private static readonly string[] PositionalOrder = ["target", "format", "vdev", "access"];
    private static readonly string[] LegacyOrder = ["target", "vdev", "access"];

    public static DiskSpec Parse(string spec, ConfigPosition at)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        var positional = 0;
        string[]? order = null;
        var parts = SplitKeepingTarget(spec);
        foreach (var raw in parts)
        {
            var part = raw.Trim();
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && IsKnownKey(part[..eq].Trim()))
            {
                values[part[..eq].Trim()] = part[(eq + 1)..].Trim();
                continue;
            }

            if (part is "cdrom" or "discard" or "no-discard" or "direct-io-safe")
            {
                flags.Add(part);
                continue;
            }

            order ??= LooksLegacy(part) ? LegacyOrder : PositionalOrder;
            if (positional >= order.Length)
            {
                throw new ConfigException(at, $"disk '{spec}': too many positional parameters (at most {order.Length}: {string.Join(", ", order)})");
            }

            if (part.Length > 0)
            {
                values.TryAdd(order[positional], part);
            }

            positional++;
        }

        var target = values.GetValueOrDefault("target") ?? throw new ConfigException(at, $"disk '{spec}': no target (the image file)");
        var format = DiskFormat.Raw;
        var colon = target.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && !target.StartsWith('/'))
        {
            // Legacy prefixes: phy:, file:, tap:aio:, raw:, qcow2:.
            var prefix = target[..colon];
            target = target[(colon + 1)..];
            if (target.StartsWith("aio:", StringComparison.Ordinal))
            {
                target = target[4..];
            }

            if (prefix == "qcow2")
            {
                format = DiskFormat.Qcow2;
            }
        }

        if (values.TryGetValue("format", out var f))
        {
            format = f switch
            {
                "raw" => DiskFormat.Raw,
                "qcow2" => DiskFormat.Qcow2,
                _ => throw new ConfigException(at, $"disk '{spec}': format '{f}' is not supported (raw or qcow2)"),
            };
        }

        var vdev = values.GetValueOrDefault("vdev") ?? throw new ConfigException(at, $"disk '{spec}': no vdev (for example xvda)");
        var cdrom = flags.Contains("cdrom") || values.GetValueOrDefault("devtype") == "cdrom";
        if (vdev.EndsWith(":cdrom", StringComparison.Ordinal))
        {
            vdev = vdev[..^":cdrom".Length];
            cdrom = true;
        }

        if (!IsValidVdev(vdev))
        {
            throw new ConfigException(at, $"disk '{spec}': vdev '{vdev}' is not a virtual disk name (xvdX, hdX or sdX)");
        }

        var access = values.GetValueOrDefault("access") ?? (cdrom ? "ro" : "rw");
        var readOnly = access switch
        {
            "ro" or "r" => true,
            "rw" or "w" => false,
            _ => throw new ConfigException(at, $"disk '{spec}': access '{access}' must be ro, r, rw or w"),
        };

        var backend = values.GetValueOrDefault("backend");
        if (backend is not null && !DriverDomainName.Valid(backend))
        {
            throw new ConfigException(at, $"disk '{spec}': backend '{backend}' {DriverDomainName.Rule}");
        }

        return new DiskSpec(target, format, vdev, readOnly || cdrom, cdrom, !flags.Contains("no-discard")) { Backend = backend };
    }

    public override string ToString() =>
        $"format={Format.ToString().ToLowerInvariant()}, vdev={Vdev}, access={(ReadOnly ? "ro" : "rw")}{(Cdrom ? ", devtype=cdrom" : "")}{(Backend is null ? "" : ", backend=" + Backend)}, target={Target}";

    // "target=" swallows the rest of the string, commas included (xl-disk-configuration: it must come last).
    private static List<string> SplitKeepingTarget(string spec)
    {
        var parts = new List<string>();
        var rest = spec;
        while (rest.Length > 0)
        {
            var trimmed = rest.TrimStart();
            if (trimmed.StartsWith("target=", StringComparison.Ordinal))
            {
                parts.Add(trimmed);
                break;
            }

            var comma = rest.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0)
            {
                parts.Add(rest);
                break;
            }

            parts.Add(rest[..comma]);
            rest = rest[(comma + 1)..];
        }

        return parts;
    }

    private static bool IsKnownKey(string key) => key is "target" or "format" or "vdev" or "access" or "devtype" or "backend" or "backendtype" or "script";

    private static bool LooksLegacy(string firstPositional) =>
        firstPositional.StartsWith("phy:", StringComparison.Ordinal) || firstPositional.StartsWith("file:", StringComparison.Ordinal)
        || firstPositional.StartsWith("tap:", StringComparison.Ordinal) || firstPositional.StartsWith("raw:", StringComparison.Ordinal)
        || firstPositional.StartsWith("qcow2:", StringComparison.Ordinal);

    private static bool IsValidVdev(string vdev)
    {
        var letters = vdev.StartsWith("xvd", StringComparison.Ordinal) ? vdev[3..]
            : vdev.StartsWith("hd", StringComparison.Ordinal) || vdev.StartsWith("sd", StringComparison.Ordinal) ? vdev[2..] : null;
        return letters is { Length: > 0 and <= 3 } && letters.All(char.IsAsciiLetterLower);
    }
}
