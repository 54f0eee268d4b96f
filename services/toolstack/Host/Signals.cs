using System.Diagnostics;
using System.Globalization;

namespace Disagg.Toolstack.Host;

/// <summary>
/// SIGTERM to a child, so it can stop in order (the kernel destroys its domains and removes its
/// socket). .NET's Process.Kill only sends SIGKILL and shared/Interop has no kill(2) yet, so
/// this runs kill(1); SIGKILL remains Process.Kill.
/// </summary>
internal static class Signals
{
    public static void Terminate(int pid)
    {
        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)])
            {
                UseShellExecute = false,
                RedirectStandardError = true,
            });
            kill?.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // no kill(1): the caller escalates to SIGKILL after its timeout
        }
    }

    /// <summary>True when a process with this pid exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..];
            return !state.StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }
}
