using System.Net;
using System.Net.Sockets;
using System.Text;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Daemon;
using Disagg.Toolstack.Host;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Disagg.Toolstack.Http;

/// <summary>
/// `disagg host up --http 127.0.0.1:PORT` (off by default): the live dashboard (/, a self-contained page),
/// its server-sent event streams (/events: the host's state once a second while a page is open;
/// /console/NAME: a guest's console as it prints), the kernel message log (/dmesg) and Prometheus'
/// /metrics. Read-only: no endpoint changes anything, so none needs a token; loopback only
/// (<see cref="HttpAddress"/>). Started after the CLI socket, stopped before it. The address it got
/// (port 0 picks one) is written to STATE_DIR/http.addr.
/// </summary>
internal sealed partial class DashboardServer(HostConfig config, StateDir state, HostDaemon host, ILoggerFactory loggers) : IHostedService
{
    private static readonly TimeSpan StateInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(10);

    private readonly ILogger _log = loggers.CreateLogger("http");
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private Socket? _listener;
    private Task _accept = Task.CompletedTask;

    public string AddressFile => state.Combine("http.addr");

    public Task StartAsync(CancellationToken cancel)
    {
        if (config.Http is not { } address)
        {
            return Task.CompletedTask;
        }

        var endpoint = HttpAddress.Parse(address, "--http");
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(endpoint);
        }
        catch (SocketException e)
        {
            _listener.Dispose();
            throw new ToolstackException($"--http {address}: cannot listen: {e.Message}");
        }

        _listener.Listen(32);
        var bound = (IPEndPoint)_listener.LocalEndPoint!;
        var url = bound.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{bound.Address}]:{bound.Port}" : $"{bound.Address}:{bound.Port}";
        File.WriteAllText(AddressFile, url + "\n");
        Listening(_log, "http://" + url + "/");
        _accept = Task.Run(AcceptLoop, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancel)
    {
        if (_listener is null)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accept.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task[] open;
        lock (_connections)
        {
            open = [.. _connections];
        }

        await Task.WhenAll(open).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        File.Delete(AddressFile);
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener!.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var task = Task.Run(() => ServeAsync(client), CancellationToken.None);
            lock (_connections)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(task);
            }
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var stream = new NetworkStream(client, ownsSocket: true);
        var exchange = new HttpExchange(stream);
        try
        {
            using (var head = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                head.CancelAfter(HeadTimeout);
                if (!await exchange.ReadRequestAsync(head.Token).ConfigureAwait(false))
                {
                    return;
                }
            }

            if (exchange.Method is not ("GET" or "HEAD"))
            {
                await exchange.RespondAsync(405, "text/plain", "read-only: GET and HEAD only\n", _stop.Token).ConfigureAwait(false);
                return;
            }

            await RouteAsync(exchange, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the browser left, or the host is going down
        }
        catch (Exception e) when (e is ToolstackException or KernelRequestException or KernelConnectionLostException)
        {
            await exchange.RespondAsync(503, "text/plain", e.Message + "\n", CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RouteAsync(HttpExchange exchange, CancellationToken cancel)
    {
        switch (exchange.Path)
        {
            case "/":
            case "/index.html":
                await exchange.RespondAsync(200, "text/html; charset=utf-8", DashboardPage.Html, cancel).ConfigureAwait(false);
                break;
            case "/metrics":
                await exchange.RespondAsync(200, MetricsText.ContentType, MetricsText.Write(await HostSnapshot.TakeAsync(host, cancel).ConfigureAwait(false)), cancel).ConfigureAwait(false);
                break;
            case "/api/state":
                await exchange.RespondAsync(200, "application/json", SnapshotJson.Write(await HostSnapshot.TakeAsync(host, cancel).ConfigureAwait(false)), cancel).ConfigureAwait(false);
                break;
            case "/dmesg":
                await exchange.RespondAsync(200, "text/plain; charset=utf-8", await MessageLogTailAsync(cancel).ConfigureAwait(false), cancel).ConfigureAwait(false);
                break;
            case "/events":
                await StreamStateAsync(exchange, cancel).ConfigureAwait(false);
                break;
            case var p when p.StartsWith("/console/", StringComparison.Ordinal) && p.Length > "/console/".Length:
                await StreamConsoleAsync(exchange, p["/console/".Length..], cancel).ConfigureAwait(false);
                break;
            default:
                await exchange.RespondAsync(404, "text/plain", $"no page {exchange.Path} (/, /metrics, /events, /dmesg, /console/NAME, /api/state)\n", cancel).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>The host's state now and once a second after, until the page closes.</summary>
    private async Task StreamStateAsync(HttpExchange exchange, CancellationToken cancel)
    {
        await exchange.StartEventsAsync(cancel).ConfigureAwait(false);
        using var timer = new PeriodicTimer(StateInterval);
        do
        {
            byte[] json;
            try
            {
                json = SnapshotJson.Write(await HostSnapshot.TakeAsync(host, cancel).ConfigureAwait(false));
            }
            catch (Exception e) when (e is ToolstackException or KernelRequestException or KernelConnectionLostException)
            {
                json = Encoding.UTF8.GetBytes("{\"error\":\"" + System.Text.Json.JsonEncodedText.Encode(e.Message) + "\"}");
            }

            await exchange.SendEventAsync("state", json, cancel).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(cancel).ConfigureAwait(false));
    }

    /// <summary>A guest's console: the tail of its log, then what it prints, as "output" events of JSON strings.</summary>
    private async Task StreamConsoleAsync(HttpExchange exchange, string name, CancellationToken cancel)
    {
        var id = await host.Registry.ResolveIdAsync(name, cancel).ConfigureAwait(false);
        var subscriber = host.Consoles.Attach(id, replayBytes: 16 * 1024);
        if (subscriber is null)
        {
            await exchange.RespondAsync(404, "text/plain", $"domain '{name}' has no console here\n", cancel).ConfigureAwait(false);
            return;
        }

        try
        {
            await exchange.StartEventsAsync(cancel).ConfigureAwait(false);
            while (true)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                quiet.CancelAfter(KeepAlive);
                bool more;
                try
                {
                    more = await subscriber.Output.WaitToReadAsync(quiet.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                    await exchange.SendKeepAliveAsync(cancel).ConfigureAwait(false);
                    continue;
                }

                if (!more)
                {
                    var why = Encoding.UTF8.GetBytes("\"" + System.Text.Json.JsonEncodedText.Encode(subscriber.ClosedReason ?? "closed") + "\"");
                    await exchange.SendEventAsync("closed", why, cancel).ConfigureAwait(false);
                    return;
                }

                while (subscriber.Output.TryRead(out var chunk))
                {
                    var text = System.Text.Json.JsonEncodedText.Encode(Encoding.UTF8.GetString(chunk));
                    await exchange.SendEventAsync("output", Encoding.UTF8.GetBytes("\"" + text + "\""), cancel).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            host.Consoles.Detach(subscriber);
        }
    }

    /// <summary>The last 64 KiB of the kernel's message log.</summary>
    private async Task<byte[]> MessageLogTailAsync(CancellationToken cancel)
    {
        const int Tail = 64 * 1024;
        var probe = await host.Kernel.CallAsync<MessageLogChunk>(new ReadMessageLog(long.MaxValue, 0), cancel).ConfigureAwait(false);
        var chunk = await host.Kernel.CallAsync<MessageLogChunk>(new ReadMessageLog(Math.Max(0, probe.NextOffset - Tail), Tail), cancel).ConfigureAwait(false);
        return chunk.Text;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "dashboard and /metrics at {Url}")]
    private static partial void Listening(ILogger logger, string url);
}
