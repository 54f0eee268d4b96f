using System.Runtime.InteropServices;

namespace Disagg.Abi.Events;

/// <summary>EVTCHNOP_bind_virq.</summary>
[StructLayout(LayoutKind.Explicit, Size = 12)]
public struct EvtchnBindVirq
{
    [FieldOffset(0)] public uint Virq;
    [FieldOffset(4)] public uint Vcpu;
    /// <summary>OUT.</summary>
    [FieldOffset(8)] public uint Port;
}
