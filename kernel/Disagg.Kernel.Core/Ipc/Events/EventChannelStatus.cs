using Disagg.Abi.Events;

namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>What EVTCHNOP_status reports about a port.</summary>
public readonly record struct EventChannelStatus(EventChannelState State, int Vcpu, int RemoteDomainId, int RemotePort, int Virq);
