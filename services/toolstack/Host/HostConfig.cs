using System.Globalization;
using System.Text.RegularExpressions;

namespace Disagg.Toolstack.Host;

/// <summary>
/// What `disagg host up` needs: the host config file (host.conf in the state dir, or --config)
/// overlaid by flags. The file is `key = value` lines, `#` comments, optional quotes:
/// memory = 1G, pcpus = 2, shutdown_timeout = 10, services = auto | none | xenstored,netback,blkback,
/// uplink.BRIDGE = TAP[:MTU] (netback gives the bridge a host TAP device),
/// service.NAME = PROGRAM ARGS... (an extra supervised service, whitespace-separated),
/// arch = rv32 | rv64, fault_injection = on | off (as `host up --fault-injection`: a test host), listen = ADDR:PORT and migration_key_file = PATH (incoming migrations),
/// sandbox = on | off (built-in services under disagg-sandbox; on unless said).
/// </summary>
internal sealed partial record HostConfig
{
    public string Memory { get; init; } = "1G";

    /// <summary>
    /// `host up --fault-injection`: the service domains are told where to take channel faults (DISAGG_FAULT_SOCKET) and
    /// the daemon forwards `disagg fault` requests to them. Off, no service listens and the daemon refuses every one.
    /// </summary>
    public bool FaultInjection { get; init; }

    public int? Pcpus { get; init; }

    public int ShutdownTimeoutSeconds { get; init; } = 10;

    /// <summary>Built-in services to start; null means every one whose program exists ("auto").</summary>
    public IReadOnlyList<string>? BuiltinServices { get; init; }

    public IReadOnlyList<ExtraService> ExtraServices { get; init; } = [];

    /// <summary>The dashboard and /metrics address (`--http`, http = 127.0.0.1:PORT); null: not served.</summary>
    public string? Http { get; init; }

    /// <summary>Built-in services run sandboxed (Sandbox/SandboxPolicy); `sandbox = off` to debug one with strace or gdb.</summary>
    public bool Sandbox { get; init; } = true;

    /// <summary>netback's host uplinks, as its `--uplink BRIDGE=TAP[:MTU]` arguments, in file order.</summary>
    public IReadOnlyList<string> Uplinks { get; init; } = [];

    /// <summary>"rv64", or "rv32" for a host whose machine offers RV32 harts only (`host up --arch`).</summary>
    public string Arch { get; init; } = "rv64";

    /// <summary>Where incoming migrations are accepted (`host up --listen ADDR:PORT`); null: none are.</summary>
    public string? MigrationListen { get; init; }

    /// <summary>The secret a migrating host must prove it knows (Migration/MigrationKey).</summary>
    public byte[]? MigrationKey { get; init; }

    public static HostConfig Read(string path)
    {
        var config = new HostConfig();
        var extras = new List<ExtraService>();
        var uplinks = new List<string>();
        var lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw;
            var hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
            {
                line = line[..hash];
            }

            line = line.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new HostConfigException($"{path}:{lineNo}: expected 'key = value'");
            }

            var key = line[..eq].Trim();
            var value = Unquote(line[(eq + 1)..].Trim());
            string Where() => $"{path}:{lineNo}";
            config = key switch
            {
                "memory" => config with { Memory = CheckSize(value, Where()) },
                "pcpus" => config with { Pcpus = CheckInt(value, 1, 64, key, Where()) },
                "shutdown_timeout" => config with { ShutdownTimeoutSeconds = CheckInt(value, 0, 3600, key, Where()) },
                "services" => config with { BuiltinServices = ParseServiceList(value) },
                "http" => config with { Http = CheckHttp(value, Where()) },
                "sandbox" => value is "on" or "off" ? config with { Sandbox = value == "on" } : throw new HostConfigException($"{Where()}: sandbox '{value}': on or off"),
                "arch" => value is "rv32" or "rv64" ? config with { Arch = value } : throw new HostConfigException($"{Where()}: arch '{value}': rv32 or rv64"),
                "fault_injection" => value is "on" or "off" ? config with { FaultInjection = value == "on" } : throw new HostConfigException($"{Where()}: fault_injection '{value}': on or off"),
                "listen" => config with { MigrationListen = Migration.MigrationListener.Parse(value, Where() + ": listen") is { } ? value : null },
                "migration_key_file" => config with { MigrationKey = Migration.MigrationKey.From(null, value, Where()) },
                _ when key.StartsWith("service.", StringComparison.Ordinal) => AddExtra(config, extras, key["service.".Length..], value, Where()),
                _ when key.StartsWith("uplink.", StringComparison.Ordinal) => AddUplink(config, uplinks, key["uplink.".Length..], value, Where()),
                _ => throw new HostConfigException($"{Where()}: unknown key '{key}' (memory, pcpus, shutdown_timeout, services, http, sandbox, arch, listen, migration_key_file, uplink.BRIDGE, service.NAME)"),
            };
        }

        if (config.MigrationListen is not null && config.MigrationKey is null)
        {
            throw new HostConfigException($"{path}: listen needs migration_key_file: nobody may push a guest into a host without the key");
        }

        return config with { ExtraServices = extras, Uplinks = uplinks };
    }

    /// <summary>A loopback ADDR:PORT (<see cref="global::Disagg.Toolstack.Http.HttpAddress"/>), checked when read so a typo fails `host up` at once.</summary>
    public static string CheckHttp(string value, string where)
    {
        global::Disagg.Toolstack.Http.HttpAddress.Parse(value, where);
        return value;
    }

    public static string CheckSize(string value, string where) =>
        SizePattern().IsMatch(value) ? value : throw new HostConfigException($"{where}: memory '{value}' is not a size (like 512M or 2G)");

    public static IReadOnlyList<string>? ParseServiceList(string value) => value switch
    {
        "auto" => null,
        "none" or "" => [],
        _ => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
    };

    private static HostConfig AddExtra(HostConfig config, List<ExtraService> extras, string name, string value, string where)
    {
        var words = value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (!NamePattern().IsMatch(name) || words.Length == 0)
        {
            throw new HostConfigException($"{where}: service.{name} needs a name of letters, digits and '-' and a program");
        }

        extras.Add(new ExtraService(name, words[0], words[1..]));
        return config;
    }

    // Bridge names as a vif's bridge= allows; a TAP is a Linux interface name (IFNAMSIZ: at most 15 bytes).
    private static HostConfig AddUplink(HostConfig config, List<string> uplinks, string bridge, string value, string where)
    {
        var m = UplinkPattern().Match(value);
        if (!BridgePattern().IsMatch(bridge) || !m.Success)
        {
            throw new HostConfigException($"{where}: uplink.{bridge} = '{value}': expected uplink.BRIDGE = TAP or TAP:MTU (names of 1-15 letters, digits, '-', '_', '.')");
        }

        if (m.Groups[2].Success && (!int.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var mtu) || mtu is < 68 or > 65535))
        {
            throw new HostConfigException($"{where}: uplink.{bridge}: mtu '{m.Groups[2].Value}' must be 68..65535");
        }

        if (uplinks.Any(u => u.StartsWith(bridge + "=", StringComparison.Ordinal)))
        {
            throw new HostConfigException($"{where}: uplink.{bridge} is given twice");
        }

        uplinks.Add($"{bridge}={value}");
        return config;
    }

    private static int CheckInt(string value, int min, int max, string key, string where) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new HostConfigException($"{where}: {key} '{value}' is not a number in {min}..{max}");

    private static string Unquote(string v) =>
        v.Length >= 2 && (v[0] == '"' || v[0] == '\'') && v[^1] == v[0] ? v[1..^1] : v;

    [GeneratedRegex("^[0-9]+[KkMmGg]?$")]
    private static partial Regex SizePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,15}$")]
    private static partial Regex BridgePattern();

    [GeneratedRegex("^([A-Za-z0-9_.-]{1,15})(?::([0-9]{1,5}))?$")]
    private static partial Regex UplinkPattern();
}
