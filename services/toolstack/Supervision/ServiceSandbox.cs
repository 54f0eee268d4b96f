namespace Disagg.Toolstack.Supervision;

/// <summary>
/// What a service process may do, applied where the supervisor starts it: the program runs through
/// <see cref="Launcher"/> (disagg-sandbox, services/toolstack/Sandbox/Launcher), which closes inherited
/// descriptors, enters a mount namespace, drops capabilities, restricts paths with Landlock, sets no-new-privs and
/// a seccomp allow-list, then execs the program (under the same pid, or as pid 2 of a PID namespace of its own).
/// </summary>
public sealed record ServiceSandbox
{
    public required string Launcher { get; init; }

    /// <summary>Files naming the system calls it may make, one a line (the runtime's and the service's own).</summary>
    public required IReadOnlyList<string> SyscallLists { get; init; }

    /// <summary>Dirs it may do anything in but execute (its state).</summary>
    public IReadOnlyList<string> StateDirs { get; init; } = [];

    /// <summary>Paths it may read (libraries, the runtime, /proc); the program's own dir is always added.</summary>
    public IReadOnlyList<string> Read { get; init; } = [];

    /// <summary>Paths beneath which it may read and write existing files (blkback's disk images).</summary>
    public IReadOnlyList<string> WriteFiles { get; init; } = [];

    /// <summary>Dirs it may bind a Unix socket in (xenstored's socket).</summary>
    public IReadOnlyList<string> SocketDirs { get; init; } = [];

    /// <summary>Device nodes it may open for reading, writing and ioctl.</summary>
    public IReadOnlyList<string> Devices { get; init; } = [];

    /// <summary>Capabilities (numbers) it keeps when the host runs as root; every other one is dropped.</summary>
    public IReadOnlyList<int> KeepCapabilities { get; init; } = [];

    /// <summary>
    /// A PID namespace of its own: the launcher stays as the supervisor's child, the service runs as pid 2 inside
    /// (<see cref="LauncherTree"/> finds it), and sees no other process of the host.
    /// </summary>
    public bool PidNamespace { get; init; }

    /// <summary>Extra environment for a sandboxed process.</summary>
    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>
    {
        // No diagnostics IPC socket or its file in /tmp: a descriptor and a path the service does not use.
        ["DOTNET_EnableDiagnostics"] = "0",
    };

    /// <summary>The program's dir, and its target's when it is a link (an apphost finds its assemblies beside its real path).</summary>
    private static string[] ProgramDirs(string program)
    {
        var dir = Path.GetDirectoryName(program)!;
        try
        {
            var target = new FileInfo(program).ResolveLinkTarget(returnFinalTarget: true);
            return target is null ? [dir] : [dir, Path.GetDirectoryName(target.FullName)!];
        }
        catch (IOException)
        {
            return [dir]; // gone: the launcher's exec says so
        }
    }

    /// <summary>The launcher's command line up to and including <paramref name="program"/>; its own arguments follow.</summary>
    public IEnumerable<string> LauncherArguments(string program)
    {
        foreach (var f in SyscallLists)
        {
            yield return "--syscalls";
            yield return f;
        }

        foreach (var (option, paths) in new[]
        {
            ("--state", StateDirs), ("--read", Read), ("--read", ProgramDirs(program)), ("--write-files", WriteFiles),
            ("--make-socket", SocketDirs), ("--device", Devices),
        })
        {
            foreach (var p in paths)
            {
                yield return option;
                yield return p;
            }
        }

        foreach (var c in KeepCapabilities)
        {
            yield return "--keep-cap";
            yield return c.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (PidNamespace)
        {
            yield return "--pid-namespace";
        }

        yield return "--";
        yield return program;
    }
}
