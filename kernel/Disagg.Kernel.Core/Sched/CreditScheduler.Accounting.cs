namespace Disagg.Kernel.Core.Sched;

public sealed partial class CreditScheduler
{
    private const long MaxDebtNs = 1_000_000_000;

    /// <summary>
    /// Hands out one period of every pCPU's time as credit to the active domains, by weight,
    /// limited by each domain's cap and by what its vCPUs could use; resets cap budgets and
    /// unparks; drops domains that neither ran nor wanted to from the active list.
    /// </summary>
    private void Account(long now)
    {
        var period = _options.AccountingPeriodNs;
        // After a long idle stretch, start a fresh period rather than paying out the ones missed.
        _nextAccountingNs = now - _nextAccountingNs >= period ? now + period : _nextAccountingNs + period;

        long weightTotal = 0;
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            var d = _active[i];
            if (d.UsedThisPeriodNs == 0 && !WantsCpu(d))
            {
                d.Active = false;
                _active.RemoveAt(i);
                continue;
            }

            weightTotal += d.Weight;
        }

        var creditTotal = period * _pcpus.Length;
        foreach (var d in _active)
        {
            var runnable = 0;
            foreach (var v in d.VcpuList)
            {
                if (v.PauseCount == 0 && !v.Removed)
                {
                    runnable++;
                }
            }

            var share = creditTotal * d.Weight / weightTotal;
            share = Math.Min(share, Math.Min(d.CapBudgetNs(period), period * Math.Max(runnable, 1)));
            var perVcpu = runnable == 0 ? 0 : share / runnable;
            // A capped domain that overran its budget (a slice stretched by a host stall) starts the
            // next period in debt, so over time it gets exactly its cap.
            d.UsedThisPeriodNs = d.Cap == 0 ? 0 : Math.Max(0, d.UsedThisPeriodNs - d.CapBudgetNs(period));
            foreach (var v in d.VcpuList)
            {
                if (v.PauseCount > 0 || v.Removed)
                {
                    continue;
                }

                // Capped above so an idle vCPU cannot hoard credit. The floor is low (a second of debt):
                // time a vCPU held its pCPU — including host stalls mid-slice — is repaid, so long-run
                // shares stay exact on a loaded host, yet no vCPU waits more than about a second.
                v.CreditNs = Math.Clamp(v.CreditNs + perVcpu, -MaxDebtNs, period);
                Requeue(v);
            }
        }
    }

    private bool WantsCpu(SchedDomain d)
    {
        foreach (var v in d.VcpuList)
        {
            if (v.State is VcpuRunState.Runnable or VcpuRunState.Running or VcpuRunState.Parked)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>After credit changed: a queued vCPU moves to the queue of its new priority; a parked one may run again.</summary>
    private void Requeue(SchedVcpu v)
    {
        if (v.State == VcpuRunState.Running)
        {
            v.Priority = v.Priority == CreditPriority.Boost ? v.Priority : PriorityOf(v);
            return;
        }

        if (v.Queue is not null)
        {
            v.Queue.Remove(v);
            v.Priority = v.Priority == CreditPriority.Boost ? v.Priority : PriorityOf(v);
            Enqueue(v);
            return;
        }

        if (v.State == VcpuRunState.Parked)
        {
            v.Priority = PriorityOf(v);
            Reconcile(v);
        }
    }

    private static CreditPriority PriorityOf(SchedVcpu v) => v.CreditNs > 0 ? CreditPriority.Under : CreditPriority.Over;

    private bool HasParked()
    {
        foreach (var d in _active)
        {
            foreach (var v in d.VcpuList)
            {
                if (v.State == VcpuRunState.Parked)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
