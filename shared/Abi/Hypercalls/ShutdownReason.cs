namespace Disagg.Abi.Hypercalls;

/// <summary>Why a domain shut down (sched.h SHUTDOWN_*).</summary>
public enum ShutdownReason : uint
{
    Poweroff = 0,
    Reboot = 1,
    Suspend = 2,
    Crash = 3,
    Watchdog = 4,
    SoftReset = 5,
}
