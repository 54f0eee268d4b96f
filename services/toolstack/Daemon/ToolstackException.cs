namespace Disagg.Toolstack.Daemon;

/// <summary>A request the daemon refuses, with a message for the user (a config error, a missing service, the kernel gone).</summary>
internal sealed class ToolstackException(string message) : Exception(message);
