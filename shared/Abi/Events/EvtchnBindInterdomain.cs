using System.Runtime.InteropServices;

namespace Disagg.Abi.Events;

/// <summary>EVTCHNOP_bind_interdomain: connect a local port to RemoteDom's unbound RemotePort.</summary>
[StructLayout(LayoutKind.Explicit, Size = 12)]
public struct EvtchnBindInterdomain
{
    [FieldOffset(0)] public ushort RemoteDom;
    [FieldOffset(4)] public uint RemotePort;
    /// <summary>OUT.</summary>
    [FieldOffset(8)] public uint LocalPort;
}
