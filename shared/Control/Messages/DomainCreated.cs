namespace Disagg.Control.Messages;

/// <summary>
/// A domain created (CreateDomain, RestoreDomain, MigrationReceive). <paramref name="DeviceModelState"/>: an incoming
/// HVM domain's device model state from the migration stream (a DomainImage DeviceModelRecord's bytes), for the
/// toolstack to start its device model with; null otherwise.
/// </summary>
public sealed record DomainCreated(int DomainId, int ConsolePort, int XenstorePort, ulong ConsoleFrame, ulong XenstoreFrame, byte[]? DeviceModelState = null) : ControlMessage;
