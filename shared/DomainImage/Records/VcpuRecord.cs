using Disagg.DomainImage.Records;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>
/// One vCPU's architectural state: every integer and FP register, pc, privilege, the S-mode CSRs, fcsr,
/// instret, the guest's time and timer deadline (10 MHz ticks), and whether SBI HSM had started it. Integer
/// registers are 64-bit, sign-extended for an RV32 hart. The LR/SC reservation is not saved: a restore drops
/// it, as any trap would, and the guest's SC fails and retries.
/// </summary>
public sealed record VcpuRecord
{
    public required int Index { get; init; }

    public required bool Started { get; init; }

    public required ulong[] X { get; init; }

    public required ulong[] F { get; init; }

    public required ulong Pc { get; init; }

    /// <summary>0 user, 1 supervisor (the privilege encoding of the RISC-V spec).</summary>
    public required byte Privilege { get; init; }

    public ulong Sstatus { get; init; }

    public ulong Sie { get; init; }

    public ulong Sip { get; init; }

    public ulong Stvec { get; init; }

    public ulong Sepc { get; init; }

    public ulong Scause { get; init; }

    public ulong Stval { get; init; }

    public ulong Sscratch { get; init; }

    public ulong Satp { get; init; }

    public ulong Scounteren { get; init; }

    public ulong Senvcfg { get; init; }

    public uint Fcsr { get; init; }

    public ulong InstructionsRetired { get; init; }

    public ulong Time { get; init; }

    public ulong TimerDeadline { get; init; } = ulong.MaxValue;

    internal void Write(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(21);
        w.Write(Index);
        w.Write(Started);
        RecordFields.WriteRegisters(ref w, X);
        RecordFields.WriteRegisters(ref w, F);
        w.Write(Pc);
        w.Write(Privilege);
        w.Write(Sstatus);
        w.Write(Sie);
        w.Write(Sip);
        w.Write(Stvec);
        w.Write(Sepc);
        w.Write(Scause);
        w.Write(Stval);
        w.Write(Sscratch);
        w.Write(Satp);
        w.Write(Scounteren);
        w.Write(Senvcfg);
        w.Write(Fcsr);
        w.Write(InstructionsRetired);
        w.Write(Time);
        w.Write(TimerDeadline);
    }

    internal static VcpuRecord Read(ref MessagePackReader r)
    {
        RecordFields.ExpectArray(ref r, 21, "vcpu");
        var v = new VcpuRecord
        {
            Index = RecordFields.ReadInt(ref r, "vcpu index", 0, DomainRecord.MaxVcpuLimit - 1),
            Started = r.ReadBoolean(),
            X = RecordFields.ReadRegisters(ref r, "x"),
            F = RecordFields.ReadRegisters(ref r, "f"),
            Pc = r.ReadUInt64(),
            Privilege = r.ReadByte(),
            Sstatus = r.ReadUInt64(),
            Sie = r.ReadUInt64(),
            Sip = r.ReadUInt64(),
            Stvec = r.ReadUInt64(),
            Sepc = r.ReadUInt64(),
            Scause = r.ReadUInt64(),
            Stval = r.ReadUInt64(),
            Sscratch = r.ReadUInt64(),
            Satp = r.ReadUInt64(),
            Scounteren = r.ReadUInt64(),
            Senvcfg = r.ReadUInt64(),
            Fcsr = r.ReadUInt32(),
            InstructionsRetired = r.ReadUInt64(),
            Time = r.ReadUInt64(),
            TimerDeadline = r.ReadUInt64(),
        };
        return v.Privilege <= 1 ? v : throw new MessagePackSerializationException($"vcpu {v.Index} privilege {v.Privilege} is not U or S");
    }
}
