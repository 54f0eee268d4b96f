using System.Collections.Concurrent;
using System.Threading.Channels;
using Disagg.Control.Messages;

namespace Disagg.Control;

/// <summary>
/// A client of the kernel's control socket (the toolstack, a service): sends requests, matches
/// replies by id, and delivers pushed events on <see cref="Events"/>. Thread-safe.
/// </summary>
public sealed class KernelClient : IAsyncDisposable
{
    private readonly ControlConnection _connection;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<ControlMessage>> _pending = new();
    private readonly ConcurrentDictionary<long, Interop.FileDescriptor[]> _fds = new();
    private readonly Channel<DomainEvent> _events = Channel.CreateUnbounded<DomainEvent>();
    private readonly Channel<ConsoleActivity> _consoleActivity = Channel.CreateUnbounded<ConsoleActivity>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _reader;
    private long _nextId;
    private volatile KernelConnectionLostException? _lost;

    private KernelClient(ControlConnection connection)
    {
        _connection = connection;
        _reader = Task.Run(ReadLoop);
    }

    public HelloReply? Identity { get; private set; }

    public ChannelReader<DomainEvent> Events => _events.Reader;

    /// <summary>Console notices the kernel pushes after <see cref="WatchConsoles"/> (at most one per source per read, so unbounded is bounded).</summary>
    public ChannelReader<ConsoleActivity> ConsoleActivity => _consoleActivity.Reader;

    public static async Task<KernelClient> ConnectAsync(string socketPath, string token, CancellationToken cancel = default)
    {
        var client = new KernelClient(await ControlConnection.ConnectAsync(socketPath, cancel).ConfigureAwait(false));
        try
        {
            var reply = await client.RequestAsync(new Hello(token, ControlCodec.ProtocolVersion), cancel).ConfigureAwait(false);
            client.Identity = reply as HelloReply ?? throw new KernelRequestException(reply);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return client;
    }

    /// <summary>Sends a request and waits for its reply (which may be an <see cref="ErrorReply"/>).</summary>
    public Task<ControlMessage> RequestAsync(ControlMessage request, CancellationToken cancel = default) => RequestAsync(request, [], cancel);

    /// <summary>
    /// Sends a request with descriptors attached (a migration's socket; they stay the caller's) and waits for
    /// its reply.
    /// </summary>
    public async Task<ControlMessage> RequestAsync(ControlMessage request, IReadOnlyList<Interop.FileDescriptor> fds, CancellationToken cancel = default)
    {
        var id = Interlocked.Increment(ref _nextId);
        var done = new TaskCompletionSource<ControlMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = done;
        if (_lost is { } lost)
        {
            // The reader has ended: either it saw this entry and failed it, or we fail it here.
            done.TrySetException(lost);
        }

        try
        {
            if (fds.Count == 0)
            {
                await _connection.SendAsync(request with { Id = id }, cancel).ConfigureAwait(false);
            }
            else
            {
                await _connection.SendAsync(request with { Id = id }, fds, cancel).ConfigureAwait(false);
            }

            return await done.Task.WaitAsync(cancel).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Sends a request and returns its reply as <typeparamref name="T"/>, or throws with the kernel's error.</summary>
    public async Task<T> CallAsync<T>(ControlMessage request, CancellationToken cancel = default)
        where T : ControlMessage
    {
        var reply = await RequestAsync(request, cancel).ConfigureAwait(false);
        return reply as T ?? throw new KernelRequestException(reply);
    }

    /// <summary>
    /// As <see cref="CallAsync{T}"/> for a reply that carries file descriptors (a service channel, a grant
    /// map): returns them with the reply, owned by the caller.
    /// </summary>
    public async Task<(T Reply, Interop.FileDescriptor[] Fds)> CallWithFdsAsync<T>(ControlMessage request, CancellationToken cancel = default)
        where T : ControlMessage
    {
        var reply = await RequestAsync(request, cancel).ConfigureAwait(false);
        _fds.TryRemove(reply.Id, out var fds);
        if (reply is T typed)
        {
            return (typed, fds ?? []);
        }

        foreach (var fd in fds ?? [])
        {
            fd.Dispose();
        }

        throw new KernelRequestException(reply);
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        await _reader.ConfigureAwait(false);
        foreach (var (_, fds) in _fds)
        {
            foreach (var fd in fds)
            {
                fd.Dispose();
            }
        }
    }

    /// <summary>How many descriptors travel with a message of this type (claimed in arrival order).</summary>
    private static int FdCount(ControlMessage message) => message switch
    {
        ServiceChannelOpened o => o.FdCount,
        SharedPageAllocated => SharedPageAllocated.FdCount,
        GrantMapped => GrantMapped.FdCount,
        IoreqPageMapped => IoreqPageMapped.FdCount,
        GuestPagesMapped m => Math.Clamp(m.Pages, 0, Interop.UnixRights.MaxFds),
        _ => 0,
    };

    private async Task ReadLoop()
    {
        Exception? failure = null;
        try
        {
            while (await _connection.ReceiveAsync().ConfigureAwait(false) is { } message)
            {
                if (message is DomainEvent e && e.Id == 0)
                {
                    _events.Writer.TryWrite(e);
                }
                else if (message is ConsoleActivity a && a.Id == 0)
                {
                    _consoleActivity.Writer.TryWrite(a);
                }
                else
                {
                    var count = FdCount(message);
                    if (count > 0)
                    {
                        _fds[message.Id] = _connection.TakeFileDescriptors(count);
                    }

                    if (_pending.TryRemove(message.Id, out var waiter))
                    {
                        waiter.TrySetResult(message);
                    }
                    else if (_fds.TryRemove(message.Id, out var orphans))
                    {
                        foreach (var fd in orphans)
                        {
                            fd.Dispose(); // nobody waits for this reply any more
                        }
                    }
                }
            }
        }
        catch (Exception e) when (e is ControlProtocolException or System.Net.Sockets.SocketException or ObjectDisposedException or IOException or Interop.InteropException)
        {
            failure = e;
        }

        var gone = new KernelConnectionLostException(failure);
        _lost = gone;
        foreach (var (_, waiter) in _pending)
        {
            waiter.TrySetException(gone);
        }

        _events.Writer.TryComplete(failure is null ? null : gone);
        _consoleActivity.Writer.TryComplete(failure is null ? null : gone);
    }
}
