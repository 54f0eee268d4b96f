using Disagg.DomainImage;
using Disagg.Kernel.Core.Execution;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Persist;

/// <summary>A vCPU's hart state as an image record and back: the CPU's own <see cref="HartState"/>, field for field.</summary>
internal static class VcpuSnapshot
{
    public static VcpuRecord Capture(Vcpu vcpu)
    {
        var s = vcpu.Hart.Save();
        return new VcpuRecord
        {
            Index = vcpu.Id,
            Started = vcpu.Started,
            X = s.X,
            F = s.F,
            Pc = s.Pc,
            Privilege = (byte)s.Privilege,
            Sstatus = s.Sstatus,
            Sie = s.Sie,
            Sip = s.Sip,
            Stvec = s.Stvec,
            Sepc = s.Sepc,
            Scause = s.Scause,
            Stval = s.Stval,
            Sscratch = s.Sscratch,
            Satp = s.Satp,
            Scounteren = s.Scounteren,
            Senvcfg = s.Senvcfg,
            Fcsr = s.Fcsr,
            InstructionsRetired = s.InstructionsRetired,
            Time = s.Time,
            TimerDeadline = s.TimerDeadline,
        };
    }

    public static HartState ToHartState(VcpuRecord r, IsaWidth isa) => new()
    {
        Isa = isa,
        X = r.X,
        F = r.F,
        Pc = r.Pc,
        Privilege = (Privilege)r.Privilege,
        Sstatus = r.Sstatus,
        Sie = r.Sie,
        Sip = r.Sip,
        Stvec = r.Stvec,
        Sepc = r.Sepc,
        Scause = r.Scause,
        Stval = r.Stval,
        Sscratch = r.Sscratch,
        Satp = r.Satp,
        Scounteren = r.Scounteren,
        Senvcfg = r.Senvcfg,
        Fcsr = r.Fcsr,
        InstructionsRetired = r.InstructionsRetired,
        Time = r.Time,
        TimerDeadline = r.TimerDeadline,
    };
}
