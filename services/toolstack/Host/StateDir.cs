using System.Globalization;

namespace Disagg.Toolstack.Host;

/// <summary>
/// Where one host keeps everything: sockets, pid and log files, console logs, service state.
/// Several hosts run side by side in different state dirs; every verb finds its host with
/// --state-dir, else DISAGG_STATE_DIR, else /tmp/disagg-$UID.
/// </summary>
internal sealed record StateDir(string Path)
{
    public const string EnvironmentVariable = "DISAGG_STATE_DIR";

    public string DaemonSocket => Combine("disagg.sock");

    public string KernelSocket => Combine("kernel.sock");

    public string PidFile => Combine("disagg.pid");

    public string DaemonLog => Combine("disagg.log");

    public string KernelLog => Combine("kernel.log");

    public string ConfigFile => Combine("host.conf");

    public string ConsoleDir => Combine("console");

    public static StateDir Resolve(string? option)
    {
        var dir = option;
        if (string.IsNullOrEmpty(dir))
        {
            dir = Environment.GetEnvironmentVariable(EnvironmentVariable);
        }

        if (string.IsNullOrEmpty(dir))
        {
            dir = System.IO.Path.Combine("/tmp", "disagg-" + CurrentUid().ToString(CultureInfo.InvariantCulture));
        }

        return new StateDir(System.IO.Path.GetFullPath(dir));
    }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public string ServiceSocket(string service) => Combine(service + ".sock");

    public string ServiceLog(string service) => Combine(service + ".log");

    /// <summary>Where a service of a fault-injection host takes channel faults (`host up --fault-injection`).</summary>
    public string FaultSocket(string service) => Combine(System.IO.Path.Combine(service, "fault.sock"));

    public string ConsoleLog(string domainName) => System.IO.Path.Combine(ConsoleDir, "guest-" + domainName + ".log");

    /// <summary>The real uid, from /proc (the toolstack makes no system calls of its own).</summary>
    private static int CurrentUid()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                return int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
