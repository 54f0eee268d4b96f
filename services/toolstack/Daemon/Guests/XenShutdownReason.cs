namespace Disagg.Toolstack.Daemon.Guests;

/// <summary>Xen's SHUTDOWN_* reasons (public/sched.h), as DomainEvent.ShutdownReason carries them.</summary>
internal enum XenShutdownReason
{
    Poweroff = 0,
    Reboot = 1,
    Suspend = 2,
    Crash = 3,
    Watchdog = 4,
    SoftReset = 5,
}
