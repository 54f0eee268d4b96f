namespace Disagg.Control.Messages;

/// <summary>The first message on a connection: the capability token says who the peer is (control domain or a registered service).</summary>
public sealed record Hello(string Token, int ProtocolVersion) : ControlMessage;
