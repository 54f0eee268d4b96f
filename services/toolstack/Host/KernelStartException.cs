namespace Disagg.Toolstack.Host;

/// <summary>disagg-kernel could not be started or did not become ready; the message says why (its stderr).</summary>
internal sealed class KernelStartException(string message) : Exception(message);
