using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Domains;

namespace Disagg.Kernel.Core.Persist;

/// <summary>
/// Resumes a domain that suspended itself, in place (docs/SAVE-RESTORE.md "Suspend"): Xen's cancelled suspend.
/// SCHEDOP_shutdown(SHUTDOWN_suspend) returned 0 when the vCPU stopped (the kernel completes every hypercall);
/// here vCPU 0's a0 becomes 1, which tells the guest its state is still valid where it is: its rings, grants
/// and event channels still connect it to its backends, so it carries on without reconnecting. A restored
/// domain instead sees the 0 it saved and reconnects its frontends. `save -c` / `-p`, and a save or migration
/// that failed after the guest suspended, end here.
/// </summary>
public static class DomainResume
{
    /// <summary>The suspend hypercall's return when the suspend was cancelled (Xen: xc_domain_resume's "fast" resume).</summary>
    public const long Cancelled = 1;

    /// <returns>False when the domain is not shut down for suspend (running, paused, crashed, ...).</returns>
    public static bool Resume(Hypervisor hypervisor, Domain domain)
    {
        if (domain.State != DomainState.Shutdown || domain.ShutdownReason != ShutdownReason.Suspend)
        {
            return false;
        }

        var boot = domain.Vcpus[0];

        // The shutdown descheduled the vCPU at once, but it leaves its pCPU only at its block's end: its
        // registers are ours to change once it is off (as DomainSave waits for).
        if (!SpinWait.SpinUntil(() => !hypervisor.Scheduler.IsOnCpu(boot.Sched), TimeSpan.FromSeconds(10)))
        {
            throw new InvalidOperationException($"domain {domain.Id}: vcpu 0 did not leave its pCPU within 10 s of its suspend");
        }

        boot.Hart.SetX(10, Cancelled);
        return domain.ClearSuspend();
    }
}
