namespace Disagg.Toolstack.Cli;

/// <summary>
/// A verb failed for a reason the user should read (printed as "disagg VERB: reason", no stack
/// trace): exit 1, or 2 when the command line itself was wrong (<see cref="Usage"/>).
/// </summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>A wrong command line (a value out of range, arguments that contradict): exit 2.</summary>
    public static CliException Usage(string message) => new(message, ExitCodes.Usage);
}
