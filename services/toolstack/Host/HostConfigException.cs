namespace Disagg.Toolstack.Host;

/// <summary>A host config file or flag that cannot be used: names the file and line, and why.</summary>
internal sealed class HostConfigException(string message) : Exception(message);
