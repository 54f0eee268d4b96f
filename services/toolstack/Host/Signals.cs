using Disagg.Interop;

namespace Disagg.Toolstack.Host;

/// <summary>Signals to the daemon's children (kill(2) through shared/Interop) and liveness checks by pid.</summary>
internal static class Signals
{
    /// <summary>SIGTERM, so the child can stop in order (the kernel destroys its domains and removes its socket).</summary>
    public static void Terminate(int pid) => ProcessSignals.Send(pid, ProcessSignals.Sigterm);

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
