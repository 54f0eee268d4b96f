namespace Disagg.Kernel.Cpu;

/// <summary>
/// A load or store a hart parked for a device model (<see cref="ExitReason.MmioPending"/>): the guest-physical
/// address, the size in bytes (1, 2, 4, 8, naturally aligned), the direction and, for a store, the value.
/// </summary>
public readonly record struct MmioAccess(ulong Address, int Size, bool IsWrite, ulong Value);
