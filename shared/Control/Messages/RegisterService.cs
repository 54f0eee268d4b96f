namespace Disagg.Control.Messages;

/// <summary>
/// The control domain registers a service domain (xenstored, netback, ...) under a domain id;
/// the reply's token is what that service presents in its <see cref="Hello"/>.
/// </summary>
public sealed record RegisterService(string Name, int DomainId) : ControlMessage;
