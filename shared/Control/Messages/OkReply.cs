namespace Disagg.Control.Messages;

/// <summary>The request was carried out; nothing more to say.</summary>
public sealed record OkReply : ControlMessage;
