namespace Disagg.Control.Messages;

/// <summary>
/// Writes a paused domain's image (docs/SAVE-RESTORE.md) to <paramref name="Path"/> on the kernel's host; the
/// domain stays paused (the toolstack destroys it, keeps it or unpauses it). <paramref name="Config"/> is the
/// toolstack's configuration of the domain, carried in the image's header. <paramref name="DeviceModelState"/> is
/// an HVM domain's device model state (a DomainImage DeviceModelRecord's bytes, the toolstack's to build), written
/// as the image's device model record; a PV domain gets EINVAL for one. Replies OkReply.
/// </summary>
public sealed record SaveDomain(int DomainId, string Path, byte[] Config, byte[]? DeviceModelState = null) : ControlMessage;
