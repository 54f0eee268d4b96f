namespace Disagg.Abi.Events;

/// <summary>Reserved domain ids (xen.h DOMID_*).</summary>
public static class DomainIds
{
    public const ushort FirstReserved = 0x7FF0;
    public const ushort Self = 0x7FF0;
    public const ushort Io = 0x7FF1;
    public const ushort Xen = 0x7FF2;
    public const ushort Invalid = 0x7FF4;
}
