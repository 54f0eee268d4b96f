using Disagg.Control;
using Disagg.Toolstack.Daemon.Consoles;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Daemon;

/// <summary>One CLI connection: each request gets one reply; `console` turns the connection into a stream.</summary>
internal static class DaemonSession
{
    /// <summary>Bytes of a console's log an attaching client sees first.</summary>
    private const int ConsoleReplayBytes = 16 * 1024;

    /// <summary>Bytes of a console's log `console --batch` shows at most.</summary>
    private const int BatchReplayBytes = 1 << 20;

    public static async Task RunAsync(HostDaemon host, DaemonConnection connection)
    {
        while (await connection.ReceiveAsync().ConfigureAwait(false) is { } request)
        {
            if (request is ConsoleAttachRequest attach)
            {
                await ConsoleAsync(host, connection, attach).ConfigureAwait(false);
                return;
            }

            if (request is MigrateRequest migrate)
            {
                await Migration.MigrateSession.RunAsync(host, connection, migrate).ConfigureAwait(false);
                continue;
            }

            DaemonMessage reply;
            try
            {
                reply = await HandleAsync(host, connection, request, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DomainOperationException or ToolstackException or KernelRequestException)
            {
                reply = new ErrorReply(e.Message);
            }
            catch (KernelConnectionLostException)
            {
                reply = new ErrorReply(host.Status().KernelState is "running" ? "the connection to the kernel was lost" : "the kernel " + host.Status().KernelState);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A bug of ours in one request must not take the host down with it; it is logged with its stack.
                host.Log.RequestFailed(request.GetType().Name, e);
                reply = new ErrorReply($"internal error in the daemon ({e.GetType().Name}: {e.Message}); see {host.State.DaemonLog}");
            }

            await connection.SendAsync(reply with { Id = request.Id }).ConfigureAwait(false);
        }
    }

    private static async Task<DaemonMessage> HandleAsync(HostDaemon host, DaemonConnection connection, DaemonMessage request, CancellationToken cancel) => request switch
    {
        HostStatusRequest => host.Status(),
        HostDownRequest => Down(host),
        ServiceListRequest => new ServiceListReply(host.Services.List()),
        ServiceActionRequest s => new OkReply(host.Services.Act(s.Name, s.Action) ?? throw new ToolstackException($"no service '{s.Name}' (see `disagg service list`)")),
        CreateRequest c => await host.Guests.CreateAsync(c.ConfigPath, c.Paused, c.Overrides, cancel).ConfigureAwait(false),
        DomainActionRequest a => new OkReply(await host.Guests.ActAsync(a.Domain, a.Action, a.Wait, cancel).ConfigureAwait(false)),
        ListRequest l => await host.Table.ListAsync(l.Long, cancel).ConfigureAwait(false),
        MemoryRequest m => new OkReply(await host.Tuning.SetMemoryAsync(m, cancel).ConfigureAwait(false)),
        VcpuSetRequest v => new OkReply(await host.Tuning.SetVcpusAsync(v, cancel).ConfigureAwait(false)),
        VcpuPinRequest p => new OkReply(await host.Tuning.PinAsync(p, cancel).ConfigureAwait(false)),
        VcpuListRequest v => await host.Tuning.ListVcpusAsync(v.Domain, cancel).ConfigureAwait(false),
        SchedCreditRequest s => await host.Tuning.SchedCreditAsync(s, cancel).ConfigureAwait(false),
        DmesgRequest d => await DmesgAsync(host, d, cancel).ConfigureAwait(false),
        InfoRequest => await host.InfoAsync(cancel).ConfigureAwait(false),
        HostCountersRequest => await CountersAsync(host, cancel).ConfigureAwait(false),
        ChannelFaultRequest f => new OkReply(await host.Services.InjectChannelFaultAsync(f.Name, f.Kind, f.Count, f.DelayMs, cancel).ConfigureAwait(false)),
        DeviceAttachRequest a => new OkReply(await host.Devices.AttachAsync(a, cancel).ConfigureAwait(false)),
        DeviceDetachRequest d => new OkReply(await host.Devices.DetachAsync(d, cancel).ConfigureAwait(false)),
        DeviceListRequest l => await host.Devices.ListAsync(l, cancel).ConfigureAwait(false),
        ServiceSwapRequest s => new OkReply(await host.Services.SwapAsync(s.Name, s.Binary, TimeSpan.FromSeconds(s.TimeoutSeconds), cancel).ConfigureAwait(false)),
        ServiceAddRequest a => new OkReply(await host.Services.AddAsync(a.Name, a.Kind, cancel).ConfigureAwait(false)),
        SaveRequest s => await host.Saves.SaveAsync(s, p => connection.SendAsync(p with { Id = request.Id }, cancel), cancel).ConfigureAwait(false),
        RestoreRequest r => await host.Saves.RestoreAsync(r, p => connection.SendAsync(p with { Id = request.Id }, cancel), cancel).ConfigureAwait(false),
        _ => new ErrorReply($"{request.GetType().Name} is not a request"),
    };

    private static OkReply Down(HostDaemon host)
    {
        host.RequestDown("disagg host down");
        return new OkReply($"host {host.State.Path} going down");
    }

    private static async Task<HostCountersReply> CountersAsync(HostDaemon host, CancellationToken cancel)
    {
        var c = await host.Kernel.CallAsync<Control.Messages.HostCounters>(new Control.Messages.GetHostCounters(), cancel).ConfigureAwait(false);
        return new HostCountersReply(c.Domains, c.Services, c.EventPorts, c.GrantMaps, c.SharedPages, c.FreeMemoryKiB, c.TotalMemoryKiB);
    }

    private static async Task<DmesgReply> DmesgAsync(HostDaemon host, DmesgRequest d, CancellationToken cancel)
    {
        var chunk = await host.Kernel.CallAsync<Control.Messages.MessageLogChunk>(new Control.Messages.ReadMessageLog(d.Offset, 1 << 20), cancel).ConfigureAwait(false);
        if (d.Clear && chunk.Text.Length > 0)
        {
            // Guest consoles are demultiplexed from this log: the hub reads past what this reply holds
            // before the kernel drops it, so `dmesg -c` never takes a line from a guest's console.
            await host.Consoles.DrainOnceAsync(cancel).ConfigureAwait(false);
            await host.Kernel.CallAsync<Control.Messages.MessageLogChunk>(new Control.Messages.ReadMessageLog(chunk.NextOffset, 0, chunk.NextOffset), cancel).ConfigureAwait(false);
        }

        return new DmesgReply(chunk.Text, chunk.NextOffset, chunk.Missed);
    }

    private static async Task ConsoleAsync(HostDaemon host, DaemonConnection connection, ConsoleAttachRequest attach)
    {
        ConsoleSubscriber? subscriber = null;
        int id;
        try
        {
            id = await host.Registry.ResolveIdAsync(attach.Domain, CancellationToken.None).ConfigureAwait(false);
            if (!attach.Follow)
            {
                await host.Consoles.DrainOnceAsync(CancellationToken.None).ConfigureAwait(false);
            }

            subscriber = host.Consoles.Attach(id, Math.Clamp(attach.ReplayBytes, 0, attach.Follow ? ConsoleReplayBytes : BatchReplayBytes))
                ?? throw new DomainOperationException(attach.Domain, "has no console (it was not created by this toolstack)");
        }
        catch (Exception e) when (e is DomainOperationException or ToolstackException or KernelRequestException)
        {
            await connection.SendAsync(new ErrorReply(e.Message) { Id = attach.Id }).ConfigureAwait(false);
            return;
        }

        await connection.SendAsync(new OkReply($"attached to {attach.Domain}") { Id = attach.Id }).ConfigureAwait(false);
        if (!attach.Follow)
        {
            host.Consoles.Detach(subscriber);
            subscriber.Close("end of the log (--batch)");
        }

        using var detached = new CancellationTokenSource();
        var input = Task.Run(async () =>
        {
            // Keystrokes go into the guest's console ring, or its SBI console when it has no ring; the end of the stream is the client detaching.
            while (await connection.ReceiveAsync().ConfigureAwait(false) is { } message)
            {
                if (message is ConsoleInput keys)
                {
                    await host.Consoles.InputAsync(id, keys.Data).ConfigureAwait(false);
                }
            }

            await detached.CancelAsync().ConfigureAwait(false);
        });
        try
        {
            while (await subscriber.Output.WaitToReadAsync(detached.Token).ConfigureAwait(false))
            {
                while (subscriber.Output.TryRead(out var chunk))
                {
                    await connection.SendAsync(new ConsoleOutput(chunk, subscriber.TakeDropped()), detached.Token).ConfigureAwait(false);
                }
            }

            await connection.SendAsync(new ConsoleClosed(subscriber.ClosedReason ?? "console closed"), detached.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // the client detached (Ctrl-]) or went away
        }
        finally
        {
            host.Consoles.Detach(subscriber);
            await connection.DisposeAsync().ConfigureAwait(false);
            await input.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
