namespace Disagg.Abi.Hypercalls;

/// <summary>memory_op sub-operations (memory.h).</summary>
public enum MemoryOp : uint
{
    IncreaseReservation = 0,
    DecreaseReservation = 1,
    MaximumRamPage = 2,
    CurrentReservation = 3,
    MaximumReservation = 4,
    PopulatePhysmap = 6,
}
