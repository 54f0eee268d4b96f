namespace Disagg.Toolstack.Daemon;

/// <summary>A domain operation failed: which domain, and why (the message the user sees).</summary>
internal sealed class DomainOperationException(string domain, string reason) : Exception($"domain '{domain}': {reason}")
{
    public string Domain { get; } = domain;

    public string Reason { get; } = reason;
}
