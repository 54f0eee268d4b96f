namespace Disagg.Toolstack.Protocol;

/// <summary>The peer on the daemon socket broke the framing; the connection is closed.</summary>
internal sealed class DaemonProtocolException(string reason) : Exception(reason);
