namespace Disagg.Netback.DataPath;

/// <summary>
/// The kernel stopped performing our grant copies (it died, or took our channel away): the switching thread
/// cannot go on, and the process exits so the supervisor restarts it against the kernel it has now.
/// </summary>
public sealed class SwitchStalledException(string reason) : Exception("netback switch stalled: " + reason);
