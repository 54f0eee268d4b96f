using System.Runtime.InteropServices;

namespace Disagg.Abi.Events;

/// <summary>EVTCHNOP_status.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct EvtchnStatus
{
    [FieldOffset(0)] public ushort Dom;
    [FieldOffset(4)] public uint Port;
    /// <summary>OUT: an <see cref="EventChannelState"/>.</summary>
    [FieldOffset(8)] public uint Status;
    /// <summary>OUT: the vCPU notified.</summary>
    [FieldOffset(12)] public uint Vcpu;
    /// <summary>OUT: unbound.dom or interdomain.dom.</summary>
    [FieldOffset(16)] public ushort RemoteDom;
    /// <summary>OUT: interdomain.port; also virq or pirq (the union's first u32 is at 16 for those).</summary>
    [FieldOffset(20)] public uint RemotePort;
    /// <summary>OUT: virq or pirq, overlapping RemoteDom as Xen's union does.</summary>
    [FieldOffset(16)] public uint VirqOrPirq;
}
