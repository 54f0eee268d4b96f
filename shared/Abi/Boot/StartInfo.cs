using System.Runtime.InteropServices;

namespace Disagg.Abi.Boot;

/// <summary>
/// struct start_info (xen.h), the page a PV guest finds at a1 when it boots (ARCHITECTURE §2).
/// Xen's "unsigned long" fields are u64 here for RV32 and RV64 alike (xen_ulong_t on RISC-V),
/// so the layout does not change with the guest's width and images migrate. Frame numbers
/// (shared_info excepted, which Xen gives as an address) are guest frame numbers.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 1168)]
public unsafe struct StartInfo
{
    public const int MagicLength = 32;
    public const int CommandLineLength = 1024;

    /// <summary>"xen-&lt;version&gt;-riscv64" style, NUL-terminated.</summary>
    [FieldOffset(0)] public fixed byte Magic[MagicLength];
    /// <summary>Pages of RAM the domain starts with.</summary>
    [FieldOffset(32)] public ulong NrPages;
    /// <summary>Guest-physical address of the shared_info page.</summary>
    [FieldOffset(40)] public ulong SharedInfo;
    /// <summary>SIF_* flags.</summary>
    [FieldOffset(48)] public uint Flags;
    /// <summary>Guest frame of the xenstore ring page.</summary>
    [FieldOffset(56)] public ulong StoreMfn;
    [FieldOffset(64)] public uint StoreEvtchn;
    /// <summary>Guest frame of the console ring page (console.domU.mfn).</summary>
    [FieldOffset(72)] public ulong ConsoleMfn;
    [FieldOffset(80)] public uint ConsoleEvtchn;
    [FieldOffset(88)] public ulong PtBase;
    [FieldOffset(96)] public ulong NrPtFrames;
    [FieldOffset(104)] public ulong MfnList;
    /// <summary>Guest-physical address of the ramdisk, 0 if none.</summary>
    [FieldOffset(112)] public ulong ModStart;
    [FieldOffset(120)] public ulong ModLen;
    [FieldOffset(128)] public fixed byte CmdLine[CommandLineLength];
    [FieldOffset(1152)] public ulong FirstP2mPfn;
    [FieldOffset(1160)] public ulong NrP2mFrames;
}
