using Disagg.Kernel.Core.Sched;

namespace Disagg.Kernel.Core.Execution;

/// <summary>The host threads that run vCPUs, one per physical CPU; the scheduler's way to reach them.</summary>
public sealed class PcpuSet : IPcpuKicker, IDisposable
{
    private Pcpu[] _pcpus = [];

    public IReadOnlyList<Pcpu> Pcpus => _pcpus;

    public void Kick(int pcpu)
    {
        var all = _pcpus;
        if ((uint)pcpu < (uint)all.Length)
        {
            all[pcpu].Kick();
        }
    }

    /// <summary>Creates and starts the threads (after the scheduler that needs this kicker exists).</summary>
    public void Start(CreditScheduler scheduler)
    {
        var pcpus = new Pcpu[scheduler.PcpuCount];
        for (var i = 0; i < pcpus.Length; i++)
        {
            pcpus[i] = new Pcpu(i, scheduler);
        }

        _pcpus = pcpus;
        foreach (var p in pcpus)
        {
            p.Start();
        }
    }

    public void Dispose()
    {
        foreach (var p in _pcpus)
        {
            p.Dispose();
        }
    }
}
