using System.Net.Sockets;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Interop;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Disagg.Service.Faults;

/// <summary>
/// Where a fault-injection host's daemon arms a service's faults: a Unix socket at <see cref="ChannelFaults.SocketPath"/>
/// (0600, in the host's state dir) speaking the control protocol's <see cref="InjectChannelFault"/>. Hosted only when
/// the service has <see cref="ChannelFaults"/> (<see cref="Hosting.ServiceHost.AddChannelFaults"/>); a normal service
/// opens no such socket, so there is nothing to ask. A kind the service cannot inject is refused with EINVAL; a count
/// of 0 disarms that kind.
/// </summary>
public sealed partial class FaultSocket(ChannelFaults faults, IReadOnlyCollection<ChannelFaultKind> supported, ILogger<FaultSocket> log) : BackgroundService
{
    private const int Einval = 22;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        File.Delete(faults.SocketPath); // our previous process's
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(faults.SocketPath));
        File.SetUnixFileMode(faults.SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        listener.Listen(4);
        Listening(log, faults.SocketPath, string.Join(",", supported));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var client = await listener.AcceptAsync(stoppingToken).ConfigureAwait(false);
                _ = ServeAsync(new ControlConnection(client), stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
        finally
        {
            File.Delete(faults.SocketPath);
        }
    }

    private async Task ServeAsync(ControlConnection connection, CancellationToken cancel)
    {
        await using var _ = connection.ConfigureAwait(false);
        try
        {
            while (await connection.ReceiveAsync(cancel).ConfigureAwait(false) is { } message)
            {
                ControlMessage reply = message switch
                {
                    InjectChannelFault inject when !supported.Contains(inject.Kind) =>
                        new ErrorReply(Einval, $"this service cannot inject {inject.Kind} (it can: {string.Join(", ", supported)})"),
                    InjectChannelFault { Count: < 0 or > 1000 } inject => new ErrorReply(Einval, $"count {inject.Count}: 1..1000 (0 disarms)"),
                    InjectChannelFault { Count: 0 } inject => Disarm(inject.Kind),
                    InjectChannelFault inject => Arm(inject),
                    _ => new ErrorReply(Einval, $"unexpected {message.GetType().Name} on the fault socket"),
                };
                await connection.SendAsync(reply with { Id = message.Id }, cancel).ConfigureAwait(false);
                if (message is InjectChannelFault { Kind: ChannelFaultKind.Segv } && reply is ChannelFaultArmed)
                {
                    await Task.Delay(20, cancel).ConfigureAwait(false); // the reply is on its way
                    ProcessSignals.FaultInNativeCode(); // does not return: the process dies of SIGSEGV
                }
            }
        }
        catch (Exception e) when (e is ControlProtocolException or SocketException or IOException or OperationCanceledException)
        {
            // the daemon went, or spoke nonsense: the next connection starts afresh
        }
    }

    private ChannelFaultArmed Disarm(ChannelFaultKind kind)
    {
        faults.Disarm(kind);
        return new ChannelFaultArmed(kind, 0, faults.Fired(kind));
    }

    private ChannelFaultArmed Arm(InjectChannelFault inject)
    {
        var armed = inject.Kind == ChannelFaultKind.Segv ? 1 : faults.Arm(inject.Kind, inject.Count, inject.DelayMs);
        Armed(log, inject.Count, inject.Kind, armed);
        return new ChannelFaultArmed(inject.Kind, armed, faults.Fired(inject.Kind));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "fault injection is on: faults are taken at {Path} ({Kinds})")]
    private static partial void Listening(ILogger logger, string path, string kinds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "fault injection: {Count} x {Kind} armed ({Armed} pending)")]
    private static partial void Armed(ILogger logger, int count, ChannelFaultKind kind, int armed);
}
