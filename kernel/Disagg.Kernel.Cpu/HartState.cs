namespace Disagg.Kernel.Cpu;

/// <summary>
/// The architectural state of one hart as a plain record, for save, restore and migration
/// (Firecracker's persist model). Integer registers are held as 64-bit values; an RV32 hart keeps
/// them sign-extended, so its state restores on any host. Time is the guest's `time` value at save;
/// <see cref="TimerDeadline"/> is the SBI set_timer deadline in the same 10 MHz timebase.
/// </summary>
public sealed record HartState
{
    public required IsaWidth Isa { get; init; }

    public required ulong[] X { get; init; }

    public required ulong[] F { get; init; }

    public required ulong Pc { get; init; }

    public required Privilege Privilege { get; init; }

    public ulong Sstatus { get; init; }

    public ulong Sie { get; init; }

    /// <summary>Only the guest-writable SSIP bit; STIP and SEIP are the host's and are re-raised by it.</summary>
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
}
