using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace Disagg.Toolstack.Host;

/// <summary>
/// SIGTERM and SIGINT take the host down as `disagg host down` does, and the daemon's log says
/// which one did (the generic host's own lifetime stops it too, without saying why).
/// </summary>
internal sealed class HostSignals(HostDaemon host) : IHostedService
{
    private PosixSignalRegistration? _term;
    private PosixSignalRegistration? _interrupt;

    public Task StartAsync(CancellationToken cancel)
    {
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; host.RequestDown("SIGTERM"); });
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; host.RequestDown("SIGINT"); });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancel)
    {
        _term?.Dispose();
        _interrupt?.Dispose();
        return Task.CompletedTask;
    }
}
