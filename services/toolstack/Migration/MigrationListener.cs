using System.Net;
using System.Net.Sockets;
using Disagg.Toolstack.Host;
using Microsoft.Extensions.Hosting;

namespace Disagg.Toolstack.Migration;

/// <summary>
/// `host up --listen ADDR:PORT`: accepts incoming migrations over TCP, a few at a time (each is a whole
/// guest's memory), and hands each to <see cref="MigrationTarget"/>. Started after the guests' part, stopped
/// before it; without --listen it does nothing.
/// </summary>
internal sealed class MigrationListener(HostConfig config, MigrationTarget target, MigrationLog log) : IHostedService
{
    /// <summary>Incoming migrations served at once; more wait in the backlog.</summary>
    private const int Concurrent = 4;

    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(Concurrent, Concurrent);
    private Socket? _listener;
    private Task _accept = Task.CompletedTask;

    /// <summary>Where it listens (the port the OS chose, for --listen ADDR:0).</summary>
    public IPEndPoint? Endpoint => _listener?.LocalEndPoint as IPEndPoint;

    public Task StartAsync(CancellationToken cancel)
    {
        if (config.MigrationListen is not { } listen)
        {
            return Task.CompletedTask;
        }

        var endpoint = Parse(listen, "--listen");
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(endpoint);
        _listener.Listen(16);
        log.Listening(_listener.LocalEndPoint!.ToString()!, config.Arch);
        _accept = AcceptAsync(_listener, _stop.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancel)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        await _accept.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>ADDR:PORT (an IPv4 or IPv6 address, or a host name) to an endpoint.</summary>
    public static IPEndPoint Parse(string text, string what)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new HostConfigException($"{what} '{text}': expected ADDR:PORT");
        }

        var host = text[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out var address))
        {
            return new IPEndPoint(address, port);
        }

        try
        {
            var addresses = Dns.GetHostAddresses(host);
            return addresses.Length > 0 ? new IPEndPoint(addresses[0], port) : throw new HostConfigException($"{what} '{text}': {host} has no address");
        }
        catch (SocketException e)
        {
            throw new HostConfigException($"{what} '{text}': {e.Message}");
        }
    }

    private async Task AcceptAsync(Socket listener, CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            Socket peer;
            try
            {
                await _slots.WaitAsync(cancel).ConfigureAwait(false);
                peer = await listener.AcceptAsync(cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            peer.NoDelay = true;
            _ = Task.Run(async () =>
            {
                try
                {
                    await target.ServeAsync(peer, cancel).ConfigureAwait(false);
                }
                finally
                {
                    _slots.Release();
                }
            }, CancellationToken.None);
        }
    }
}
