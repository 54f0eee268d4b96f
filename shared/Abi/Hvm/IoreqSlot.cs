using System.Runtime.InteropServices;

namespace Disagg.Abi.Hvm;

/// <summary>
/// struct ioreq (public/hvm/ioreq.h), 32 bytes: one per vCPU in the ioreq page the kernel shares with a
/// domain's device model (shared_iopage_t: slot n is vCPU n). Protocol: the kernel fills Address, Data
/// (a write's value), Size, Count = 1, Type and the direction, then publishes
/// <see cref="IoreqState.Ready"/> with a release store of <see cref="Flags"/> and notifies VpEventPort.
/// The device model may set <see cref="IoreqState.InProcess"/>, writes Data (a read's value, in the low
/// Size bytes), publishes <see cref="IoreqState.ResponseReady"/> (a release store) and notifies back;
/// the kernel completes the vCPU's instruction and sets <see cref="IoreqState.None"/>.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct IoreqSlot
{
    public const int SlotSize = 32;

    /// <summary>IOREQ_TYPE_COPY: memory-mapped I/O (PIO 0 does not exist on RISC-V).</summary>
    public const byte TypeCopy = 1;

    /// <summary>IOREQ_READ in the dir bit; IOREQ_WRITE is 0.</summary>
    public const byte DirectionRead = 1;

    private const byte StateMask = 0x0F;
    private const byte DataIsPointerBit = 0x10;
    private const byte DirectionBit = 0x20;

    /// <summary>Guest-physical address of the access.</summary>
    [FieldOffset(0)] public ulong Address;

    /// <summary>A write's value, or a read's answer (the low Size bytes).</summary>
    [FieldOffset(8)] public ulong Data;

    /// <summary>Repetitions (string I/O on x86); always 1 here.</summary>
    [FieldOffset(16)] public uint Count;

    /// <summary>Bytes: 1, 2, 4 or 8.</summary>
    [FieldOffset(20)] public uint Size;

    /// <summary>The event channel port (in the HVM domain) for this vCPU's slot; the device model binds it.</summary>
    [FieldOffset(24)] public uint VpEventPort;

    [FieldOffset(28)] public ushort Pad0;

    /// <summary>state:4 | data_is_ptr:1 | dir:1 | df:1 | pad:1.</summary>
    [FieldOffset(30)] public byte Flags;

    /// <summary>IOREQ_TYPE_*; <see cref="TypeCopy"/> for MMIO.</summary>
    [FieldOffset(31)] public byte Type;

    public static byte MakeFlags(IoreqState state, bool read) => (byte)((byte)state | (read ? DirectionBit : 0));

    public static IoreqState StateOf(byte flags) => (IoreqState)(flags & StateMask);

    public static bool IsRead(byte flags) => (flags & DirectionBit) != 0;

    public static bool DataIsPointer(byte flags) => (flags & DataIsPointerBit) != 0;
}
