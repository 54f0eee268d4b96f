using Disagg.Kernel.Core.Ioreq;

namespace Disagg.Kernel.Core.Execution;

/// <summary>
/// A vCPU parked on an MMIO access its domain's device model answers (ARCHITECTURE §1: a vCPU waiting
/// for an ioreq answer is descheduled): the access goes into its ioreq slot, the vCPU blocks in the
/// scheduler, and the device model's event wakes it; it then completes the instruction and runs on.
/// Block first, then look at the slot, so an answer that arrives in between is not lost.
/// </summary>
public sealed partial class Vcpu
{
    /// <summary>The domain's ioreq server; set for HVM domains.</summary>
    public IoreqServer? Ioreq { get; set; }

    /// <summary>The hart just parked: hand the access over and wait. True: descheduled.</summary>
    private bool IssueToDeviceModel()
    {
        var server = Ioreq ?? throw new InvalidOperationException($"domain {DomainId} vcpu {Id}: an MMIO access was left pending but the domain has no ioreq server");
        server.Issue(this, Hart.ParkedMmio!.Value);
        return WaitForDeviceModel();
    }

    /// <summary>Completes the parked access if answered; otherwise blocks. True: descheduled (or the domain was crashed).</summary>
    private bool WaitForDeviceModel()
    {
        var server = Ioreq!;
        var access = Hart.ParkedMmio!.Value;
        for (var blocked = false; ; blocked = true)
        {
            switch (server.Poll(this, access, out var value))
            {
                case IoreqAnswer.Answered:
                    if (blocked)
                    {
                        _scheduler.Wake(Sched);
                    }

                    Hart.CompleteMmio(value);
                    return false;
                case IoreqAnswer.Refused:
                    return true; // the server crashed the domain, saying why

                default:
                    if (blocked)
                    {
                        return true;
                    }

                    _scheduler.Block(Sched);
                    continue; // look again: the answer may have come before we blocked
            }
        }
    }
}
