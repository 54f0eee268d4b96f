namespace Disagg.Toolstack.Fault.Schedule;

/// <summary>What a scheduled fault does to its target service. Names on the command line and in the report: lower case.</summary>
public enum FaultKind
{
    /// <summary>SIGKILL: the supervisor sees a crash and restarts the service.</summary>
    Kill = 0,

    /// <summary>SIGSTOP, then SIGCONT after the fault's hold: the service hangs, then runs on (no restart).</summary>
    Stop = 1,

    /// <summary>SIGSEGV: a crash as a bug would cause it; restarted like a kill.</summary>
    Segv = 2,

    /// <summary>`service swap` to the same binary while guests use it: a planned stop and start.</summary>
    Swap = 3,
}
