using System.Text;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Tests;

/// <summary>A real hypervisor (real pCPU threads, timers, scheduler) for in-process domain tests.</summary>
internal sealed class HypervisorFixture : IDisposable
{
    public HypervisorFixture(int pcpus = 2, long memoryMiB = 256, HartEngine engine = HartEngine.Interpret)
    {
        Hypervisor = new Hypervisor(pcpus, memoryMiB << 20) { Engine = engine, TranslateAfter = engine == HartEngine.Translate ? 1 : Hart.DefaultTranslateAfter };
    }

    public Hypervisor Hypervisor { get; }

    public Domain Boot(GuestProgram program, string name = "guest", int memoryKiB = 256, IsaWidth isa = IsaWidth.Rv64, int weight = 256, int cap = 0, ulong affinity = ulong.MaxValue, int vcpus = 1, bool start = true)
    {
        var d = Hypervisor.CreateDomain(new DomainSpec
        {
            Name = name,
            Isa = isa,
            Vcpus = vcpus,
            MaxVcpus = vcpus,
            MemoryPages = memoryKiB / 4,
            MaxMemoryPages = memoryKiB / 4,
            Weight = weight,
            Cap = cap,
            Affinity = [affinity],
        });
        d.PrepareBoot(program.Build(), GuestProgram.CodeBase, "test");
        if (start)
        {
            d.Unpause();
        }

        return d;
    }

    public string Dmesg()
    {
        var buf = new byte[Hypervisor.Log.Capacity];
        var n = Hypervisor.Log.Read(0, buf, out _, out _);
        return Encoding.UTF8.GetString(buf, 0, n);
    }

    public void Dispose() => Hypervisor.Dispose();
}
