namespace Disagg.Kernel.Core.Domains;

/// <summary>
/// Keeps a domain's vCPUs off every pCPU while one of its pages moves into a memfd of its own (a few microseconds):
/// what <see cref="Memory.P2m.ShareFrame"/> needs before a service maps the page (a grant map, a device model's ring page).
/// </summary>
internal sealed class DomainQuiesce : IDisposable
{
    private readonly Hypervisor _hypervisor;
    private readonly Domain _domain;

    public DomainQuiesce(Hypervisor hypervisor, Domain domain)
    {
        _hypervisor = hypervisor;
        _domain = domain;
        foreach (var v in domain.Vcpus)
        {
            hypervisor.Scheduler.Pause(v.Sched);
        }

        foreach (var v in domain.Vcpus)
        {
            SpinWait.SpinUntil(() => !hypervisor.Scheduler.IsOnCpu(v.Sched), TimeSpan.FromSeconds(10));
        }
    }

    public void Dispose()
    {
        foreach (var v in _domain.Vcpus)
        {
            _hypervisor.Scheduler.Unpause(v.Sched);
        }
    }
}
