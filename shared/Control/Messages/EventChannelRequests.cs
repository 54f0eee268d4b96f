namespace Disagg.Control.Messages;

/// <summary>EVTCHNOP_alloc_unbound for a service: a new port of the service's that RemoteDomain may bind.</summary>
public sealed record AllocUnboundPort(int RemoteDomain) : ControlMessage;

/// <summary>EVTCHNOP_bind_interdomain for a service: connect to RemotePort of RemoteDomain (which must be unbound for us).</summary>
public sealed record BindInterdomainPort(int RemoteDomain, int RemotePort) : ControlMessage;

/// <summary>EVTCHNOP_send on one of the service's ports.</summary>
public sealed record SendEvent(int Port) : ControlMessage;

/// <summary>EVTCHNOP_close on one of the service's ports; the remote end goes back to unbound, as in Xen.</summary>
public sealed record CloseEventPort(int Port) : ControlMessage;

/// <summary>The service's local port of a successful alloc_unbound or bind_interdomain.</summary>
public sealed record EventPortBound(int Port) : ControlMessage;
