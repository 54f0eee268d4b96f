namespace Disagg.Abi.Hypercalls;

/// <summary>sched_op sub-operations (sched.h).</summary>
public enum SchedOp : uint
{
    Yield = 0,
    Block = 1,
    Shutdown = 2,
    Poll = 3,
    RemoteShutdown = 4,
    ShutdownCode = 5,
    Watchdog = 6,
}
