namespace Disagg.Kernel.Cpu;

/// <summary>What the host says to a load or store outside RAM. Append-only.</summary>
public enum MmioResult
{
    /// <summary>Answered now: a load's value is in the out parameter, a store took effect.</summary>
    Done = 0,

    /// <summary>Nothing is there (or the device refuses the access): the guest gets an access fault.</summary>
    Fault = 1,

    /// <summary>
    /// A device model answers later (Xen's ioreq): nothing happened yet. The hart parks the access
    /// (<see cref="ExitReason.MmioPending"/>, <see cref="Hart.ParkedMmio"/>) without retiring it.
    /// </summary>
    Pending = 2,
}
