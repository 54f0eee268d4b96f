namespace Disagg.Control.Messages;

/// <summary>What <see cref="DomainCommand"/> asks. Wire values: append-only.</summary>
public enum DomainOperation
{
    Pause = 0,
    Unpause = 1,
    Destroy = 2,
    /// <summary>Marks the domain shut down with <see cref="DomainCommand.Reason"/> (SCHEDOP_remote_shutdown).</summary>
    Shutdown = 3,
    /// <summary>Starts or stops dirty logging (migration).</summary>
    EnableDirtyLog = 4,
    DisableDirtyLog = 5,
    /// <summary>
    /// Resumes a domain that suspended itself (SHUTDOWN_suspend) in place, its suspend hypercall returning 1:
    /// Xen's cancelled suspend (XEN_DOMCTL_resumedomain after xc_domain_resume's "fast" path). `save -c`/`-p`
    /// and a failed save or migration use it; EINVAL if the domain is not suspended.
    /// </summary>
    ResumeSuspended = 6,
}
