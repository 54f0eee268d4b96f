namespace Disagg.DomainImage;

/// <summary>
/// One bound port of the domain. <see cref="State"/> is Xen's EVTCHNSTAT_* value; an interdomain port names
/// its peer's domain and port as they were on the saving host (a restore binds it unbound to the same peer:
/// the peer's side belongs to the peer, and a PV frontend reconnects after resume anyway).
/// </summary>
public sealed record EventChannelEntry(int Port, int State, int Vcpu, int RemoteDomain, int RemotePort, int Virq);
