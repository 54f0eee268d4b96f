namespace Disagg.Toolstack.Cli;

/// <summary>How a verb ends, as a shell sees it (docs/USER-GUIDE.md lists them).</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The verb ran and failed: the host refused, a domain is missing, the daemon is not up.</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: an unknown verb or option, a missing argument, a value out of range.</summary>
    public const int Usage = 2;

    /// <summary>A bug of ours (EX_SOFTWARE): the message says what, never with a stack trace.</summary>
    public const int InternalError = 70;

    /// <summary>Ended by SIGINT (Ctrl-C): 128 + 2, as a shell reports it.</summary>
    public const int Interrupted = 130;

    /// <summary>Ended by SIGTERM: 128 + 15.</summary>
    public const int Terminated = 143;
}
