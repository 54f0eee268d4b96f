using System.Collections.Concurrent;
using System.Net.Sockets;
using Disagg.QemuDm.Devices;

namespace Disagg.QemuDm.Console;

/// <summary>
/// The UART's other end, as QEMU's `-serial unix:PATH,server`: a Unix socket one client at a time uses
/// (a newer client replaces the older), bytes both ways. What was printed while no client was attached is
/// kept (the last 64 KiB) and replayed to the next one. Output is queued by the ioreq thread and sent in
/// <see cref="Flush"/>; input is read by a task per client into a queue the UART drains.
/// </summary>
internal sealed class ConsoleSocket : IConsolePort, IDisposable
{
    private const int BacklogBytes = 64 * 1024;

    private readonly Socket _listener;
    private readonly ConcurrentQueue<byte> _input = new();
    private readonly List<byte> _output = [];
    private readonly Queue<byte> _backlog = new();
    private readonly CancellationTokenSource _stop = new();
    private Socket? _client;
    private bool _replay;

    public ConsoleSocket(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path); // our predecessor's (a socket file outlives its process)
        }

        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(4);
        _ = AcceptLoopAsync();
    }

    /// <summary>Bytes typed and not yet taken, for the loop's wait.</summary>
    public bool InputPending => !_input.IsEmpty;

    public void Write(byte value) => _output.Add(value);

    public bool TryRead(out byte value) => _input.TryDequeue(out value);

    /// <summary>Sends what the UART printed since the last call (on the ioreq thread).</summary>
    public void Flush()
    {
        var client = Volatile.Read(ref _client);
        if (_replay && client != null)
        {
            _replay = false;
            Send(client, [.. _backlog]);
        }

        if (_output.Count == 0)
        {
            return;
        }

        foreach (var b in _output)
        {
            if (_backlog.Count == BacklogBytes)
            {
                _backlog.Dequeue();
            }

            _backlog.Enqueue(b);
        }

        if (client != null)
        {
            Send(client, [.. _output]);
        }

        _output.Clear();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _client?.Dispose();
    }

    private void Send(Socket client, byte[] bytes)
    {
        try
        {
            client.Send(bytes);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Interlocked.CompareExchange(ref _client, null, client);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            client.SendTimeout = 2000;
            Interlocked.Exchange(ref _client, client)?.Dispose();
            _replay = true;
            _ = ReadLoopAsync(client);
        }
    }

    private async Task ReadLoopAsync(Socket client)
    {
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var n = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                for (var i = 0; i < n; i++)
                {
                    _input.Enqueue(buffer[i]);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // the client went; a new one may come
        }

        Interlocked.CompareExchange(ref _client, null, client);
        client.Dispose();
    }
}
