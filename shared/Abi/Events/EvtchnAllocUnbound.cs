using System.Runtime.InteropServices;

namespace Disagg.Abi.Events;

/// <summary>EVTCHNOP_alloc_unbound: a port in Dom that RemoteDom may bind to.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct EvtchnAllocUnbound
{
    [FieldOffset(0)] public ushort Dom;
    [FieldOffset(2)] public ushort RemoteDom;
    /// <summary>OUT.</summary>
    [FieldOffset(4)] public uint Port;
}
