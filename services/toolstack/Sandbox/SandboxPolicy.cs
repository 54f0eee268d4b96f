using Disagg.Toolstack.Daemon;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Supervision;

namespace Disagg.Toolstack.Sandbox;

/// <summary>
/// Each built-in service kind's sandbox: its state dir, the system calls it was seen to make (runtime.syscalls and
/// the service's own sandbox.syscalls, copied next to the programs into sandbox/), read access to the libraries and
/// the runtime, and what the kind needs beyond that: xenstored binds its socket in the host's state dir, netback
/// opens /dev/net/tun (and keeps CAP_NET_ADMIN as root, to create its uplinks' TAPs), blkback reads and writes disk
/// images wherever their paths are (it creates, removes and executes nothing outside its state dir).
/// </summary>
internal static class SandboxPolicy
{
    /// <summary>The launcher, next to the programs (built by the toolstack's project, Sandbox/Launcher).</summary>
    public static string Launcher => Path.Combine(AppContext.BaseDirectory, "disagg-sandbox");

    private const int CapNetAdmin = 12;

    private static readonly string[] SystemReads = ["/usr", "/lib", "/lib64", "/etc", "/proc", "/sys"];
    private static readonly string[] BasicDevices = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"];

    /// <summary>The sandbox of a service of <paramref name="kind"/> whose state dir is <paramref name="stateDir"/>.</summary>
    public static ServiceSandbox For(string kind, string stateDir, StateDir host, bool hasUplinks)
    {
        if (!File.Exists(Launcher))
        {
            throw new ToolstackException($"{Launcher} does not exist: build it (make build), or run services unsandboxed with `sandbox = off` in host.conf");
        }

        var lists = Path.Combine(AppContext.BaseDirectory, "sandbox");
        var reads = SystemReads.ToList();
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } dotnetRoot)
        {
            reads.Add(dotnetRoot);
        }

        return new ServiceSandbox
        {
            Launcher = Launcher,
            SyscallLists = [Path.Combine(lists, "runtime.syscalls"), Path.Combine(lists, kind + ".syscalls")],
            StateDirs = [stateDir],
            Read = reads,
            Devices = kind == "netback" ? [.. BasicDevices, "/dev/net/tun"] : BasicDevices,
            SocketDirs = kind == "xenstored" ? [host.Path] : [],
            WriteFiles = kind == "blkback" ? ["/"] : [],
            KeepCapabilities = kind == "netback" && hasUplinks ? [CapNetAdmin] : [],
        };
    }
}
