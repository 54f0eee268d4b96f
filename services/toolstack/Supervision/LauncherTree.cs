namespace Disagg.Toolstack.Supervision;

/// <summary>
/// Finds a sandboxed service's own process below its launcher. With a PID namespace, disagg-sandbox stays as the
/// supervisor's child and the service runs two levels down (launcher -> the namespace's init -> service; the
/// launcher's header says why): signals, /proc reads and the pid shown must go to that process, not the launcher.
/// Every level that is still the launcher (init, and the service before its exec) has the launcher's comm.
/// </summary>
internal static class LauncherTree
{
    /// <summary>The comm of a process that is still disagg-sandbox (not yet exec'd into the service).</summary>
    private const string LauncherComm = "disagg-sandbox";

    /// <summary>The first process below <paramref name="launcherPid"/> that is not the launcher; null while there is none yet (or it is gone).</summary>
    public static int? ServicePid(int launcherPid)
    {
        var pid = launcherPid;
        for (var depth = 0; depth < 3; depth++)
        {
            if (!IsLauncher(pid))
            {
                return pid;
            }

            if (OnlyChild(pid) is not { } child)
            {
                return null;
            }

            pid = child;
        }

        return null;
    }

    private static bool IsLauncher(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n') == LauncherComm;
        }
        catch (IOException)
        {
            return true; // gone: no service below it to name
        }
    }

    /// <summary>The one child of a launcher process (its main thread's children: it has no other thread).</summary>
    private static int? OnlyChild(int pid)
    {
        try
        {
            var children = File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return children.Length == 1 && int.TryParse(children[0], System.Globalization.CultureInfo.InvariantCulture, out var child) ? child : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
