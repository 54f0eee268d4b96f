using System.Runtime.InteropServices;

namespace Disagg.Abi.Boot;

/// <summary>
/// struct vcpu_time_info (xen.h). The writer bumps Version to odd before an update and to even
/// after, so a reader retries while it sees an odd or changed version (a seqlock).
/// On RISC-V the "tsc" is the time CSR (10 MHz).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct VcpuTimeInfo
{
    [FieldOffset(0)] public uint Version;
    [FieldOffset(8)] public ulong TscTimestamp;
    /// <summary>Nanoseconds since the domain booted, at TscTimestamp.</summary>
    [FieldOffset(16)] public ulong SystemTime;
    [FieldOffset(24)] public uint TscToSystemMul;
    [FieldOffset(28)] public sbyte TscShift;
    [FieldOffset(29)] public byte Flags;
}
