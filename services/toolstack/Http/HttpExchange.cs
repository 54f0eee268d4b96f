using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Disagg.Toolstack.Http;

/// <summary>
/// One HTTP/1.1 request on one connection, as much of the protocol as a dashboard needs: a GET's request
/// line and headers (at most <see cref="MaxHead"/> bytes, else 431), one response, then the connection
/// closes; or a server-sent event stream that lasts until either side ends it.
/// </summary>
internal sealed class HttpExchange(NetworkStream stream)
{
    public const int MaxHead = 8192;

    public string Method { get; private set; } = "";

    /// <summary>The path, percent-decoded, without the query.</summary>
    public string Path { get; private set; } = "";

    /// <summary>Reads the request head; false (after answering, when there is anything to answer) if it is not one we serve.</summary>
    public async Task<bool> ReadRequestAsync(CancellationToken cancel)
    {
        var head = new byte[MaxHead];
        var used = 0;
        while (true)
        {
            var n = await stream.ReadAsync(head.AsMemory(used), cancel).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            used += n;
            var end = head.AsSpan(0, used).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                break;
            }

            if (used == head.Length)
            {
                await RespondAsync(431, "text/plain", "request head too large\n", cancel).ConfigureAwait(false);
                return false;
            }
        }

        var line = Encoding.ASCII.GetString(head, 0, head.AsSpan(0, used).IndexOf("\r\n"u8));
        var parts = line.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || !parts[1].StartsWith('/'))
        {
            await RespondAsync(400, "text/plain", "not an HTTP/1.x request line\n", cancel).ConfigureAwait(false);
            return false;
        }

        Method = parts[0];
        var target = parts[1];
        var query = target.IndexOf('?', StringComparison.Ordinal);
        Path = Uri.UnescapeDataString(query >= 0 ? target[..query] : target);
        return true;
    }

    public Task RespondAsync(int status, string contentType, string body, CancellationToken cancel) =>
        RespondAsync(status, contentType, Encoding.UTF8.GetBytes(body), cancel);

    public async Task RespondAsync(int status, string contentType, byte[] body, CancellationToken cancel)
    {
        var head = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {Reason(status)}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancel).ConfigureAwait(false);
        if (Method != "HEAD")
        {
            await stream.WriteAsync(body, cancel).ConfigureAwait(false);
        }
    }

    /// <summary>Starts a text/event-stream response; then <see cref="SendEventAsync"/> until the stream ends.</summary>
    public async Task StartEventsAsync(CancellationToken cancel) =>
        await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"u8.ToArray(), cancel).ConfigureAwait(false);

    /// <summary>One event; <paramref name="data"/> must hold no newline (JSON written compactly has none).</summary>
    public async Task SendEventAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancel)
    {
        var framed = new byte[7 + name.Length + 7 + data.Length + 2];
        var at = Encoding.ASCII.GetBytes("event: " + name + "\ndata: ", framed);
        data.Span.CopyTo(framed.AsSpan(at));
        "\n\n"u8.CopyTo(framed.AsSpan(at + data.Length));
        await stream.WriteAsync(framed, cancel).ConfigureAwait(false);
        await stream.FlushAsync(cancel).ConfigureAwait(false);
    }

    /// <summary>A comment line: keeps proxies from timing the stream out, and finds a browser that left.</summary>
    public async Task SendKeepAliveAsync(CancellationToken cancel) =>
        await stream.WriteAsync(": keep-alive\n\n"u8.ToArray(), cancel).ConfigureAwait(false);

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    };
}
