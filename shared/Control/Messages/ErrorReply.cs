namespace Disagg.Control.Messages;

/// <summary>The request failed: a Xen errno (positive) and a message naming the domain and the reason.</summary>
public sealed record ErrorReply(int Errno, string Message) : ControlMessage;
