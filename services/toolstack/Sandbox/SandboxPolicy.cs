using Disagg.Toolstack.Daemon;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Supervision;

namespace Disagg.Toolstack.Sandbox;

/// <summary>
/// Each service kind's sandbox: its state dir, the system calls it was seen to make (runtime.syscalls and the
/// service's own sandbox.syscalls, copied next to the programs into sandbox/), read access to the libraries and
/// the runtime, a PID namespace of its own, and what the kind needs beyond that: xenstored binds its socket in the
/// host's state dir, netback opens /dev/net/tun (and keeps CAP_NET_ADMIN as root, to create its uplinks' TAPs),
/// blkback reads and writes disk images wherever their paths are (it creates, removes and executes nothing outside
/// its state dir), a qemu-dm reads and writes its guest's disks only (and reads beside a qcow2, where its backing
/// file is) and binds its UART's socket in the host's state dir.
/// </summary>
internal static class SandboxPolicy
{
    /// <summary>The launcher, next to the programs (built by the toolstack's project, Sandbox/Launcher).</summary>
    public static string Launcher => Path.Combine(AppContext.BaseDirectory, "disagg-sandbox");

    /// <summary>The kinds with an allow-list (sandbox/KIND.syscalls): each is the program disagg-KIND.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["xenstored", "netback", "blkback", "qemu-dm"];

    private const int CapNetAdmin = 12;

    private static readonly string[] SystemReads = ["/usr", "/lib", "/lib64", "/etc", "/proc", "/sys"];
    private static readonly string[] BasicDevices = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"];

    /// <summary>
    /// The kind of a host config's extra service (`service.NAME = PROGRAM ...`) from its program's name: one of ours
    /// (disagg-netback, ...) runs in that kind's sandbox; null for any other program, which has no allow-list.
    /// </summary>
    public static string? KindOf(string program) =>
        Path.GetFileName(program) is { } file && file.StartsWith("disagg-", StringComparison.Ordinal) && Kinds.Contains(file["disagg-".Length..])
            ? file["disagg-".Length..]
            : null;

    /// <summary>The sandbox of a service of <paramref name="kind"/> whose state dir is <paramref name="stateDir"/>.</summary>
    /// <param name="disks">A qemu-dm's disks (path, read-only); empty for the other kinds.</param>
    public static ServiceSandbox For(string kind, string stateDir, StateDir host, bool hasUplinks, IReadOnlyList<(string Path, bool ReadOnly, bool Qcow2)>? disks = null)
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

        disks ??= [];
        foreach (var (path, readOnly, qcow2) in disks)
        {
            if (readOnly)
            {
                reads.Add(path);
            }

            if (qcow2)
            {
                reads.Add(Path.GetDirectoryName(path)!); // a relative backing file is named from the image's dir
            }
        }

        return new ServiceSandbox
        {
            Launcher = Launcher,
            SyscallLists = [Path.Combine(lists, "runtime.syscalls"), Path.Combine(lists, kind + ".syscalls")],
            StateDirs = [stateDir],
            Read = reads,
            Devices = kind == "netback" ? [.. BasicDevices, "/dev/net/tun"] : BasicDevices,
            SocketDirs = kind is "xenstored" or "qemu-dm" ? [host.Path] : [],
            WriteFiles = kind switch
            {
                "blkback" => ["/"],
                "qemu-dm" => [.. disks.Where(d => !d.ReadOnly).Select(d => d.Path)],
                _ => [],
            },
            KeepCapabilities = kind == "netback" && hasUplinks ? [CapNetAdmin] : [],
            PidNamespace = true,
        };
    }
}
