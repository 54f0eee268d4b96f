using System.Net.Sockets;
using Disagg.Interop;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Migration;

/// <summary>
/// The TCP connection between two hosts during a migration: the daemons exchange framed messages on it
/// (strictly in turn, so neither side's read buffer ever holds image bytes), and in between the kernels
/// write and read the image stream on the same socket, handed to them as a descriptor.
/// </summary>
internal sealed class PeerSocket(Socket socket) : IAsyncDisposable
{
    private readonly DaemonConnection _messages = new(socket);

    public string Peer { get; } = socket.RemoteEndPoint?.ToString() ?? "?";

    public async Task SendAsync(DaemonMessage message, CancellationToken cancel)
    {
        try
        {
            await _messages.SendAsync(message, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            throw new MigrationException($"the connection to {Peer} failed: {e.Message}");
        }
    }

    /// <summary>The next message as <typeparamref name="T"/> within <paramref name="timeout"/>; anything else fails the migration.</summary>
    public async Task<T> ReceiveAsync<T>(TimeSpan timeout, CancellationToken cancel)
        where T : DaemonMessage
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        DaemonMessage? message;
        try
        {
            message = await _messages.ReceiveAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new MigrationException($"{Peer} said nothing for {timeout.TotalSeconds:F0} s");
        }
        catch (Exception e) when (e is SocketException or IOException or DaemonProtocolException)
        {
            throw new MigrationException($"the connection to {Peer} failed: {e.Message}");
        }

        return message switch
        {
            T typed => typed,
            null => throw new MigrationException($"{Peer} closed the connection"),
            _ => throw new MigrationException($"{Peer} sent {message.GetType().Name} where {typeof(T).Name} belongs"),
        };
    }

    /// <summary>A view of the socket's descriptor for sending it to the kernel; the socket keeps it (dispose the view with <see cref="Release"/>).</summary>
    public FileDescriptor Descriptor() => new((int)socket.Handle);

    public static void Release(FileDescriptor view) => view.SetHandleAsInvalid();

    public ValueTask DisposeAsync() => _messages.DisposeAsync();
}
