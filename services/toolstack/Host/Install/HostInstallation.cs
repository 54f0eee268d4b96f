using System.Globalization;
using System.Text;

namespace Disagg.Toolstack.Host.Install;

/// <summary>
/// What `disagg host install` puts on a machine and `disagg host uninstall` takes away: a systemd unit that runs the
/// host in the foreground as a notify service (the daemon's generic host sends READY=1 once every part started,
/// Microsoft.Extensions.Hosting.Systemd, and takes SIGTERM as `host down`) and the host config file it reads. Paths
/// are those of the installed system; <see cref="Root"/> only says where that system's files are written (a
/// temporary root for a test or an image build). Every file written carries <see cref="Marker"/>: uninstall removes
/// only files that say they are ours, and install never overwrites a config file someone else wrote.
/// </summary>
internal sealed record HostInstallation(string Root, string Bin, string StateDir, HostConfig Config)
{
    public const string Marker = "# Written by `disagg host install`; `disagg host uninstall` removes it.";

    public const string UnitPath = "/etc/systemd/system/disagg.service";

    public const string ConfigPath = "/etc/disagg/host.conf";

    /// <summary>Where a unit's state lives by default: systemd's StateDirectory=disagg.</summary>
    public const string DefaultStateDir = "/var/lib/disagg";

    public string UnitFile => Under(UnitPath);

    public string ConfigFile => Under(ConfigPath);

    /// <summary>Writes the unit (always: it names this build's programs) and the config file (unless one is there); returns what it did, a line each.</summary>
    public IReadOnlyList<string> Install()
    {
        var done = new List<string>();
        Directory.CreateDirectory(Path.GetDirectoryName(UnitFile)!);
        if (File.Exists(UnitFile) && !Ours(UnitFile))
        {
            throw new HostConfigException($"{UnitFile} exists and was not written by `disagg host install`: not replaced");
        }

        WriteAtomically(UnitFile, Unit(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        done.Add($"wrote {UnitFile}");
        Directory.CreateDirectory(Path.GetDirectoryName(ConfigFile)!);
        if (File.Exists(ConfigFile))
        {
            done.Add($"kept {ConfigFile} (it exists; edit it, or remove it and install again)");
        }
        else
        {
            WriteAtomically(ConfigFile, ConfigText(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            done.Add($"wrote {ConfigFile}");
        }

        return done;
    }

    /// <summary>Removes what install wrote (files carrying the marker); a file someone edited away from ours stays, said so.</summary>
    public IReadOnlyList<string> Uninstall()
    {
        var done = new List<string>();
        foreach (var file in new[] { UnitFile, ConfigFile })
        {
            if (!File.Exists(file))
            {
                done.Add($"{file}: not there");
            }
            else if (!Ours(file))
            {
                done.Add($"kept {file}: not written by `disagg host install`");
            }
            else
            {
                File.Delete(file);
                done.Add($"removed {file}");
            }
        }

        var configDir = Path.GetDirectoryName(ConfigFile)!;
        if (Directory.Exists(configDir) && !Directory.EnumerateFileSystemEntries(configDir).Any())
        {
            Directory.Delete(configDir);
        }

        return done;
    }

    /// <summary>The unit: a notify service, the daemon's state dir 0700, limits for a thousand guests, stopped by SIGTERM (the daemon's `host down`).</summary>
    public string Unit()
    {
        var disagg = Path.Combine(Bin, "disagg");
        var stopSeconds = Config.ShutdownTimeoutSeconds + 30; // guests' shutdown timeout, then services and the kernel
        var text = new StringBuilder();
        text.AppendLine(Marker);
        text.AppendLine("[Unit]");
        text.AppendLine("Description=Disagg host: the hypervisor kernel, its service domains and the toolstack daemon");
        text.AppendLine("After=network.target");
        text.AppendLine();
        text.AppendLine("[Service]");
        text.AppendLine("Type=notify");
        text.AppendLine("NotifyAccess=main");
        text.AppendLine(CultureInfo.InvariantCulture, $"ExecStart={disagg} host up --foreground --state-dir {StateDir} --config {ConfigPath}");
        text.AppendLine("KillMode=mixed");
        text.AppendLine("KillSignal=SIGTERM");
        text.AppendLine(CultureInfo.InvariantCulture, $"TimeoutStopSec={stopSeconds}");
        text.AppendLine("TimeoutStartSec=120");
        text.AppendLine("Restart=on-failure");
        text.AppendLine("RestartSec=2");
        if (StateDir == DefaultStateDir)
        {
            text.AppendLine("StateDirectory=disagg");
            text.AppendLine("StateDirectoryMode=0700");
        }

        text.AppendLine("UMask=0077");
        // Each guest holds a few descriptors in the kernel and the daemon (its memory, console, event doorbells).
        text.AppendLine("LimitNOFILE=1048576");
        text.AppendLine("TasksMax=infinity");
        text.AppendLine();
        text.AppendLine("[Install]");
        text.AppendLine("WantedBy=multi-user.target");
        return text.ToString();
    }

    /// <summary>The host config file: what install was told, in host.conf's keys.</summary>
    public string ConfigText()
    {
        var text = new StringBuilder();
        text.AppendLine(Marker);
        text.AppendLine("# Keys: docs/USER-GUIDE.md (host config file).");
        text.AppendLine(CultureInfo.InvariantCulture, $"memory = {Config.Memory}");
        if (Config.Pcpus is { } pcpus)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"pcpus = {pcpus}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"shutdown_timeout = {Config.ShutdownTimeoutSeconds}");
        text.AppendLine("services = auto");
        if (Config.Http is { } http)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"http = {http}");
        }

        text.AppendLine("sandbox = on");
        return text.ToString();
    }

    private string Under(string path) => Path.Combine(Root, path.TrimStart('/'));

    private static bool Ours(string file) => File.ReadLines(file).FirstOrDefault() == Marker;

    private static void WriteAtomically(string path, string text, UnixFileMode mode)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.SetUnixFileMode(temp, mode);
        File.Move(temp, path, overwrite: true);
    }
}
