namespace Disagg.Toolstack.Cli;

/// <summary>A verb failed for a reason the user should read (printed as "disagg VERB: reason", exit 1, no stack trace).</summary>
internal sealed class CliException(string message) : Exception(message);
