using System.Globalization;

namespace Disagg.Toolstack.Config;

/// <summary>
/// Turns parsed xl.cfg settings into a <see cref="DomainConfig"/>: checks every value with the
/// key's position in the message, applies xl's defaults, and warns about keys it does not know
/// (xl ignores them too; a warning makes a typo visible).
/// </summary>
public static class DomainConfigReader
{
    private static readonly HashSet<string> IgnoredXlKeys = new(StringComparer.Ordinal)
    {
        // Accepted from existing xl configs, meaningless on this machine: no warning.
        "builder", "bootloader", "serial", "vnc", "sdl", "boot", "acpi", "apic", "pae", "localtime", "device_model_version",
    };

    public static DomainConfig Read(string path, out IReadOnlyList<string> warnings) =>
        Read(XlConfigParser.ParseFile(path), path, out warnings);

    /// <summary>
    /// xl create's CONFIG KEY=VALUE...: each override is an xl.cfg statement (`memory=256`,
    /// `name="web2"`, `vif=["bridge=xenbr1"]`) that replaces the file's setting of that key.
    /// </summary>
    public static DomainConfig Read(string path, IReadOnlyList<string> overrides, out IReadOnlyList<string> warnings)
    {
        if (overrides.Count == 0)
        {
            return Read(path, out warnings);
        }

        var settings = XlConfigParser.ParseFile(path).ToList();
        for (var i = 0; i < overrides.Count; i++)
        {
            foreach (var o in XlConfigParser.Parse($"override {i + 1}", overrides[i]))
            {
                settings.RemoveAll(s => s.Key == o.Key);
                settings.Add(o);
            }
        }

        return Read(settings, path, out warnings);
    }

    public static DomainConfig Read(IReadOnlyList<XlSetting> settings, string file, out IReadOnlyList<string> warnings)
    {
        var byKey = settings.ToDictionary(s => s.Key, StringComparer.Ordinal);
        var warn = new List<string>();
        foreach (var s in settings)
        {
            if (!IsKnown(s.Key))
            {
                warn.Add($"{s.Position}: warning: unknown setting '{s.Key}' ignored");
            }
        }

        var start = new ConfigPosition(file, 1, 1);
        var name = GetString(byKey, "name") ?? throw new ConfigException(start, "no 'name' setting: every domain needs a name");
        ValidateName(name, byKey["name"].Position);

        var type = DomainType.Pv;
        var typeText = GetString(byKey, "type") ?? (GetString(byKey, "builder") == "hvm" ? "hvm" : null);
        if (typeText is not null)
        {
            type = typeText switch
            {
                "pv" => DomainType.Pv,
                "hvm" => DomainType.Hvm,
                _ => throw new ConfigException(PositionOf(byKey, "type", start), $"type '{typeText}' is not supported (pv or hvm)"),
            };
        }

        var memory = GetInt(byKey, "memory", 128, 1, 1 << 20);
        var maxmem = GetInt(byKey, "maxmem", memory, 1, 1 << 20);
        if (maxmem < memory)
        {
            throw new ConfigException(byKey["maxmem"].Position, $"maxmem {maxmem} is below memory {memory}");
        }

        var vcpus = GetInt(byKey, "vcpus", 1, 1, DomainConfig.MaxVcpuCount);
        var maxvcpus = GetInt(byKey, "maxvcpus", vcpus, 1, DomainConfig.MaxVcpuCount);
        if (maxvcpus < vcpus)
        {
            throw new ConfigException(byKey["maxvcpus"].Position, $"maxvcpus {maxvcpus} is below vcpus {vcpus}");
        }

        var kernel = GetString(byKey, "kernel");
        if (type == DomainType.Pv && kernel is null)
        {
            throw new ConfigException(start, "a pv domain needs a 'kernel' setting (the guest's ELF image)");
        }

        if (type == DomainType.Hvm && kernel is null)
        {
            // No firmware boots an hvm domain from a disk yet: its kernel is loaded directly, as with QEMU's -kernel.
            throw new ConfigException(start, "an hvm domain needs a 'kernel' setting (a Linux RISC-V Image, an ELF or a raw binary such as U-Boot)");
        }

        var cmdline = GetString(byKey, "cmdline");
        if (cmdline is null)
        {
            var root = GetString(byKey, "root");
            var extra = GetString(byKey, "extra");
            cmdline = string.Join(' ', new[] { root is null ? null : "root=" + root, extra }.Where(s => s is not null));
        }

        var disks = GetStrings(byKey, "disk").Select(d => (Spec: DiskSpec.Parse(d.Text!, d.Position), d.Position)).ToArray();
        for (var i = 0; i < disks.Length; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (disks[j].Spec.Vdev == disks[i].Spec.Vdev)
                {
                    // Two disks on one vdev would be one xenstore device directory written twice.
                    throw new ConfigException(disks[i].Position, $"disk {i + 1} ({disks[i].Spec.Target}): vdev {disks[i].Spec.Vdev} is already used by disk {j + 1} ({disks[j].Spec.Target})");
                }
            }
        }

        var dmTimeout = GetInt(byKey, "device_model_timeout", DomainConfig.DefaultDeviceModelTimeoutSeconds, 1, 86400);
        if (type != DomainType.Hvm && byKey.TryGetValue("device_model_timeout", out var dmt))
        {
            warn.Add($"{dmt.Position}: warning: 'device_model_timeout' is for type 'hvm' (a pv domain has no device model); ignored");
        }

        warnings = warn;
        return new DomainConfig
        {
            Name = name,
            Type = type,
            MemoryMiB = memory,
            MaxMemMiB = maxmem,
            Vcpus = vcpus,
            MaxVcpus = maxvcpus,
            Cpus = GetCpus(byKey),
            Weight = GetInt(byKey, "cpu_weight", DomainConfig.DefaultWeight, 1, 65535),
            Cap = GetInt(byKey, "cap", 0, 0, 100 * maxvcpus),
            Kernel = kernel,
            Ramdisk = GetString(byKey, "ramdisk"),
            CommandLine = cmdline,
            Disks = [.. disks.Select(d => d.Spec)],
            Vifs = GetStrings(byKey, "vif").Select(v => VifSpec.Parse(v.Text!, v.Position)).ToArray(),
            OnPoweroff = GetAction(byKey, "on_poweroff", LifecycleAction.Destroy),
            OnReboot = GetAction(byKey, "on_reboot", LifecycleAction.Restart),
            OnCrash = GetAction(byKey, "on_crash", LifecycleAction.Destroy),
            Uuid = GetString(byKey, "uuid"),
            DeviceModelTimeoutSeconds = dmTimeout,
        };
    }

    private static bool IsKnown(string key) => key is "name" or "type" or "memory" or "maxmem" or "vcpus" or "maxvcpus" or "cpus"
        or "cpu_weight" or "cap" or "kernel" or "ramdisk" or "cmdline" or "extra" or "root" or "disk" or "vif"
        or "on_poweroff" or "on_reboot" or "on_crash" or "uuid" or "device_model_timeout" || IgnoredXlKeys.Contains(key);

    private static void ValidateName(string name, ConfigPosition at)
    {
        if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ConfigException(at, $"name '{name}' must be 1-64 letters, digits, '-', '_' or '.'");
        }

        if (name.All(char.IsAsciiDigit))
        {
            throw new ConfigException(at, $"name '{name}' must not be a number (commands take a domain id or a name)");
        }
    }

    private static ConfigPosition PositionOf(Dictionary<string, XlSetting> byKey, string key, ConfigPosition fallback) =>
        byKey.TryGetValue(key, out var s) ? s.Position : fallback;

    private static string? GetString(Dictionary<string, XlSetting> byKey, string key)
    {
        if (!byKey.TryGetValue(key, out var s))
        {
            return null;
        }

        return s.Value.Kind == XlValueKind.List
            ? throw new ConfigException(s.Value.Position, $"'{key}' takes a string, not a list")
            : s.Value.Text;
    }

    private static int GetInt(Dictionary<string, XlSetting> byKey, string key, int fallback, int min, int max)
    {
        if (!byKey.TryGetValue(key, out var s))
        {
            return fallback;
        }

        var text = s.Value.Kind == XlValueKind.List ? null : s.Value.Text;
        long n = -1;
        var ok = text is not null && (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out n)
            : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out n));
        if (!ok || n < min || n > max)
        {
            throw new ConfigException(s.Value.Position, $"'{key}' must be a whole number from {min} to {max}, not {s.Value}");
        }

        return (int)n;
    }

    private static IEnumerable<XlValue> GetStrings(Dictionary<string, XlSetting> byKey, string key)
    {
        if (!byKey.TryGetValue(key, out var s))
        {
            return [];
        }

        var items = s.Value.Kind == XlValueKind.List ? s.Value.Items : [s.Value];
        foreach (var item in items)
        {
            if (item.Kind != XlValueKind.String)
            {
                throw new ConfigException(item.Position, $"'{key}' entries must be strings, not {item}");
            }
        }

        return items;
    }

    private static IReadOnlyList<CpuSet> GetCpus(Dictionary<string, XlSetting> byKey)
    {
        if (!byKey.TryGetValue("cpus", out var s))
        {
            return [CpuSet.All];
        }

        // A string applies to every vCPU; a list gives vCPU n the n-th entry.
        return s.Value.Kind switch
        {
            XlValueKind.String => [CpuSet.Parse(s.Value.Text!, s.Value.Position)],
            XlValueKind.Number => [CpuSet.Parse(s.Value.Text!, s.Value.Position)],
            _ => GetStrings(byKey, "cpus").Select(v => CpuSet.Parse(v.Text!, v.Position)).ToArray(),
        };
    }

    private static LifecycleAction GetAction(Dictionary<string, XlSetting> byKey, string key, LifecycleAction fallback)
    {
        var text = GetString(byKey, key);
        return text switch
        {
            null => fallback,
            "destroy" => LifecycleAction.Destroy,
            "restart" => LifecycleAction.Restart,
            "preserve" => LifecycleAction.Preserve,
            "rename-restart" => LifecycleAction.RenameRestart,
            _ => throw new ConfigException(byKey[key].Value.Position, $"{key} '{text}' must be destroy, restart, preserve or rename-restart"),
        };
    }
}
