using System.Runtime.InteropServices;

namespace Disagg.Abi.Events;

/// <summary>EVTCHNOP_bind_ipi.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct EvtchnBindIpi
{
    [FieldOffset(0)] public uint Vcpu;
    /// <summary>OUT.</summary>
    [FieldOffset(4)] public uint Port;
}
