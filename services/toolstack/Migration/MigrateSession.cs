using Disagg.Control;
using Disagg.Toolstack.Daemon;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Migration;

/// <summary>A CLI connection during `disagg migrate`: progress pushed per round, then the reply (or the error: the guest stayed).</summary>
internal static class MigrateSession
{
    public static async Task RunAsync(HostDaemon host, DaemonConnection connection, MigrateRequest request)
    {
        DaemonMessage reply;
        try
        {
            reply = await host.Migrations.RunAsync(request, p => connection.SendAsync(p with { Id = request.Id }), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DomainOperationException or ToolstackException or KernelRequestException or KernelConnectionLostException or MigrationException)
        {
            reply = new ErrorReply(e.Message);
        }

        await connection.SendAsync(reply with { Id = request.Id }).ConfigureAwait(false);
    }
}
