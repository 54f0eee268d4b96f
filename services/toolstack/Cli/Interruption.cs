using System.Runtime.InteropServices;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// Ctrl-C and SIGTERM for every verb: the first one cancels the verb (which then ends quietly with
/// 130 or 143); a second one is left to its default action, so a verb that does not stop is still
/// ended. The host daemon registers its own handlers and goes down in order instead.
/// </summary>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private volatile int _exitCode;

    public Interruption()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => OnSignal(c, ExitCodes.Interrupted));
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => OnSignal(c, ExitCodes.Terminated));
    }

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>130 or 143 once a signal came, else 0.</summary>
    public int ExitCode => _exitCode;

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _cancel.Dispose();
    }

    private void OnSignal(PosixSignalContext context, int exitCode)
    {
        if (_exitCode != 0)
        {
            return; // the second signal: its default action ends the process
        }

        _exitCode = exitCode;
        context.Cancel = true;
        _cancel.Cancel();
    }
}
