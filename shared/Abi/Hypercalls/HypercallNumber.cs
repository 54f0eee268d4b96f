namespace Disagg.Abi.Hypercalls;

/// <summary>
/// Xen hypercall numbers (xen.h). A guest passes one in a6 with a7 = <see cref="XenSbiExtension"/>
/// (ARCHITECTURE §2). Wire values: append-only.
/// </summary>
public enum HypercallNumber : uint
{
    MemoryOp = 12,
    XenVersion = 17,
    ConsoleIo = 18,
    GrantTableOp = 20,
    VcpuOp = 24,
    SchedOp = 29,
    EventChannelOp = 32,
    HvmOp = 34,
    Sysctl = 35,
    Domctl = 36,
    DmOp = 41,
}
