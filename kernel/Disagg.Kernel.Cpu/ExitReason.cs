namespace Disagg.Kernel.Cpu;

/// <summary>Why <see cref="Hart.Run"/> returned. Append-only.</summary>
public enum ExitReason
{
    /// <summary>The instruction budget of the slice is used up.</summary>
    SliceDone = 0,

    /// <summary>
    /// The guest executed WFI with no enabled interrupt pending. The pc is past the WFI; the host may
    /// sleep until an interrupt is injected or <see cref="Hart.TimerDeadline"/> passes.
    /// </summary>
    Idle = 1,

    /// <summary>
    /// ECALL from S-mode: an SBI call for the host. The pc still points at the ecall; the host reads
    /// a0-a7 and finishes with <see cref="Hart.CompleteSbiCall"/>, which writes a0/a1 and steps over it.
    /// </summary>
    SupervisorCall = 2,

    /// <summary>Another thread called <see cref="Hart.Kick"/>.</summary>
    Kicked = 3,

    /// <summary>
    /// A load or store went to a device model that answers later (<see cref="MmioResult.Pending"/>). The pc
    /// still points at it and it has not retired; <see cref="Hart.ParkedMmio"/> says what it is. The host
    /// finishes it with <see cref="Hart.CompleteMmio"/> (a load's value lands in rd, the pc steps over it);
    /// running the hart again without that re-executes the access (after a restore, say).
    /// </summary>
    MmioPending = 4,
}
