namespace Disagg.Control.Messages;

/// <summary>
/// Rebuilds a domain from the image at <paramref name="Path"/>, paused, with a new id; <paramref name="Name"/>
/// empty keeps the saved name. A truncated, corrupt, foreign or unfitting image is refused with the record at
/// fault named, and nothing is created. Replies DomainCreated.
/// </summary>
public sealed record RestoreDomain(string Path, string Name, int ConsoleBackendDomain, int XenstoreDomain) : ControlMessage;
