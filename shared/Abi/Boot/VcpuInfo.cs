using System.Runtime.InteropServices;

namespace Disagg.Abi.Boot;

/// <summary>
/// struct vcpu_info (xen.h) with RISC-V's empty arch_vcpu_info: 48 bytes.
/// The kernel raises the supervisor external interrupt while UpcallPending is set and
/// UpcallMask is clear (the 2-level event ABI, spec §2).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct VcpuInfo
{
    [FieldOffset(0)] public byte UpcallPending;
    [FieldOffset(1)] public byte UpcallMask;
    /// <summary>One bit per 64-port word of evtchn_pending that has work.</summary>
    [FieldOffset(8)] public ulong PendingSel;
    [FieldOffset(16)] public VcpuTimeInfo Time;
}
