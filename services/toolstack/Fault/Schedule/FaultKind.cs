namespace Disagg.Toolstack.Fault.Schedule;

/// <summary>
/// What a scheduled fault does to its target service. Names on the command line and in the report: lower case,
/// hyphenated (<see cref="FaultKinds.Name"/>). Process faults work on any host; channel faults (from
/// <see cref="RingDelay"/> on) only on one started with `disagg host up --fault-injection`. Values: append-only.
/// </summary>
public enum FaultKind
{
    /// <summary>SIGKILL: the supervisor sees a crash and restarts the service.</summary>
    Kill = 0,

    /// <summary>SIGSTOP, then SIGCONT after the fault's hold: the service hangs, then runs on (no restart).</summary>
    Stop = 1,

    /// <summary>
    /// A segmentation fault: on a fault-injection host a real one inside the service (native code touches an unmapped
    /// page); elsewhere SIGSEGV sent with kill(), which a JIT .NET service survives (docs/FAULT-INJECTION.md).
    /// </summary>
    Segv = 2,

    /// <summary>`service swap` to the same binary while guests use it: a planned stop and start.</summary>
    Swap = 3,

    /// <summary>The service's next notifications to its guests are held back (100 ms each).</summary>
    RingDelay = 4,

    /// <summary>The service's next notifications to its guests are dropped.</summary>
    RingDropNotify = 5,

    /// <summary>Events nobody sent: the backend sees its port pending, the guest gets one more notification.</summary>
    RingSpuriousNotify = 6,

    /// <summary>The backend's next grant copy reports an error: netback drops that frame, blkback fails that request.</summary>
    CopyError = 7,

    /// <summary>blkback's next write to the image fails with EIO: the guest sees that request fail, and nothing else.</summary>
    DiskEio = 8,

    /// <summary>xenstored's next journal write is torn and it kills itself: the restart keeps the journal's valid prefix.</summary>
    JournalTear = 9,
}
