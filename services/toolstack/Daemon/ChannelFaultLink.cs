using Disagg.Control;
using Disagg.Control.Messages;

namespace Disagg.Toolstack.Daemon;

/// <summary>
/// The daemon's side of channel fault injection: one <see cref="InjectChannelFault"/> to a running service's fault
/// socket (it exists only when the host was started with --fault-injection), its answer as the CLI's message.
/// </summary>
internal static class ChannelFaultLink
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    /// <summary>Arms the fault; throws <see cref="ToolstackException"/> naming the service and the reason when it cannot.</summary>
    public static async Task<string> ArmAsync(string service, int? pid, string socket, ChannelFaultKind kind, int count, int delayMs, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(Patience);
        ControlMessage? reply;
        try
        {
            var connection = await ControlConnection.ConnectAsync(socket, timeout.Token).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await connection.SendAsync(new InjectChannelFault(kind, count, delayMs) { Id = 1 }, timeout.Token).ConfigureAwait(false);
                reply = await connection.ReceiveAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ControlProtocolException or OperationCanceledException)
        {
            throw new ToolstackException($"service '{service}' (pid {pid}): its fault socket {socket} did not answer: {e.Message}");
        }

        return reply switch
        {
            ChannelFaultArmed a when count == 0 => $"service '{service}' (pid {pid}): {Name(kind)} disarmed ({a.Fired} fired)",
            ChannelFaultArmed a => $"service '{service}' (pid {pid}): {Name(kind)} x{count} armed ({a.Armed} pending, {a.Fired} fired before)",
            ErrorReply e => throw new ToolstackException($"service '{service}': {e.Message}"),
            null => kind == ChannelFaultKind.Segv
                ? $"service '{service}' (pid {pid}): segv raised"
                : throw new ToolstackException($"service '{service}' closed its fault socket without an answer"),
            _ => throw new ToolstackException($"service '{service}' answered {reply.GetType().Name}"),
        };
    }

    /// <summary>The command-line name of a channel fault (ring-delay, disk-eio, ...).</summary>
    public static string Name(ChannelFaultKind kind) => kind switch
    {
        ChannelFaultKind.RingDelay => "ring-delay",
        ChannelFaultKind.RingDropNotify => "ring-drop-notify",
        ChannelFaultKind.RingSpuriousNotify => "ring-spurious-notify",
        ChannelFaultKind.CopyError => "copy-error",
        ChannelFaultKind.DiskEio => "disk-eio",
        ChannelFaultKind.JournalTear => "journal-tear",
        ChannelFaultKind.Segv => "segv",
        _ => kind.ToString(),
    };
}
