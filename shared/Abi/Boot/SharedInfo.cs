using System.Runtime.InteropServices;

namespace Disagg.Abi.Boot;

/// <summary>
/// struct shared_info (xen.h). Xen's RISC-V port keeps one legacy vcpu_info and makes other vCPUs
/// register theirs; Disagg keeps x86's 32 legacy slots instead, so an SMP PV guest of up to
/// 32 vCPUs needs no VCPUOP_register_vcpu_info. The event words are u64 on both widths
/// (4096 ports), so the layout is the same for RV32 and RV64 guests.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 2576)]
public unsafe struct SharedInfo
{
    public const int LegacyMaxVcpus = 32;
    public const int EventWords = 64;
    public const int MaxPorts = EventWords * 64;
    public const int VcpuInfoOffset = 0;
    public const int EvtchnPendingOffset = 1536;
    public const int EvtchnMaskOffset = 2048;

    [FieldOffset(VcpuInfoOffset)] public fixed byte VcpuInfoBytes[LegacyMaxVcpus * 48];
    [FieldOffset(EvtchnPendingOffset)] public fixed ulong EvtchnPending[EventWords];
    [FieldOffset(EvtchnMaskOffset)] public fixed ulong EvtchnMask[EventWords];
    /// <summary>Wall clock at system time 0, under a seqlock like VcpuTimeInfo.</summary>
    [FieldOffset(2560)] public uint WcVersion;
    [FieldOffset(2564)] public uint WcSec;
    [FieldOffset(2568)] public uint WcNsec;
    [FieldOffset(2572)] public uint WcSecHi;
}
