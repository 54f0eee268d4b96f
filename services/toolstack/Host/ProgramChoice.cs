namespace Disagg.Toolstack.Host;

/// <summary>
/// Which build runs the daemon (and so the kernel and every service, which it starts from its own folder):
/// NativeAOT by default. A JIT `disagg` in out/bin hands `host up` to out/aot/disagg when `make publish` made
/// it after the last build (its out/aot/.published stamp is newer than each of our assemblies in out/bin,
/// disagg*.dll and Disagg.*.dll); an
/// out/aot older than the build is refused with a message and the JIT build runs, so a stale NativeAOT
/// binary never serves. DISAGG_JIT=1 keeps the JIT build. tools/aot-choice.sh is the same rule for scripts.
/// </summary>
internal static class ProgramChoice
{
    public const string ForceJitVariable = "DISAGG_JIT";

    /// <summary>The `disagg` to start the daemon with; <paramref name="note"/> says why an out/aot was passed over.</summary>
    public static string Daemon(out string? note)
    {
        note = null;
        var bin = AppContext.BaseDirectory;
        var self = Environment.ProcessPath ?? Path.Combine(bin, "disagg");
        if (Environment.GetEnvironmentVariable(ForceJitVariable) == "1" || !File.Exists(Path.Combine(bin, "disagg.dll")))
        {
            return self; // asked for JIT, or this is a NativeAOT build already
        }

        return CurrentNativeAot(bin, out note) is { } aot ? Path.Combine(aot, "disagg") : self;
    }

    /// <summary>
    /// The NativeAOT folder beside the JIT build in <paramref name="bin"/> (bin/../aot) when `make publish` made it
    /// after the last build, else null; <paramref name="note"/> says why one that exists was passed over. The rule a
    /// JIT daemon hands over by, and how tests know whether the host they start runs NativeAOT services.
    /// </summary>
    public static string? CurrentNativeAot(string bin, out string? note)
    {
        note = null;
        var aot = Path.GetFullPath(Path.Combine(bin, "..", "aot"));
        var stamp = Path.Combine(aot, ".published");
        var program = Path.Combine(aot, "disagg");
        if (!File.Exists(stamp) || !File.Exists(program))
        {
            return null;
        }

        // Our assemblies, the sandbox launcher and its allow-lists: a change to any of them makes out/aot stale.
        var sandbox = Path.Combine(bin, "sandbox");
        var built = Directory.EnumerateFiles(bin, "*.dll")
            .Where(f => Path.GetFileName(f).StartsWith("disagg", StringComparison.OrdinalIgnoreCase))
            .Concat(File.Exists(Path.Combine(bin, "disagg-sandbox")) ? [Path.Combine(bin, "disagg-sandbox")] : [])
            .Concat(Directory.Exists(sandbox) ? Directory.EnumerateFiles(sandbox, "*.syscalls") : [])
            .Select(File.GetLastWriteTimeUtc).DefaultIfEmpty(DateTime.MinValue).Max();
        if (File.GetLastWriteTimeUtc(stamp) >= built)
        {
            return aot;
        }

        note = $"host up: the NativeAOT build in {aot} is older than the build in {bin} (sources changed since `make publish`); running the JIT build. `make publish` brings NativeAOT back.";
        return null;
    }
}
