using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Host;

namespace Disagg.Toolstack.Daemon;

/// <summary>
/// Every guest's console: its output appended to state-dir/console/guest-NAME.log and fanned out
/// to attached clients. The source today is what guests write with console_io, which the kernel
/// puts in its message log as "(dN) ..." lines; the hub follows that log. SBI console output
/// (Domain.EarlyConsole) and the PV console ring have no control message yet (see USER-GUIDE).
/// </summary>
internal sealed class ConsoleHub : IAsyncDisposable
{
    /// <summary>How often the message log is read while it is quiet; a busy log is read back to back.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly object _lock = new();
    private readonly Dictionary<string, DomainConsole> _byName = [];
    private readonly Dictionary<int, DomainConsole> _byId = [];
    private readonly ConsoleDemux _demux = new();
    private readonly StateDir _state;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _draining = new(1, 1);
    private KernelClient? _kernel;
    private Task _pump = Task.CompletedTask;
    private long _offset;

    public ConsoleHub(StateDir state)
    {
        _state = state;
        Directory.CreateDirectory(state.ConsoleDir);
    }

    public void Start(KernelClient kernel)
    {
        _kernel = kernel;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Binds a domain id to its name's console (a restarted domain keeps its log and its attached clients).</summary>
    public void Bind(int domainId, string name)
    {
        lock (_lock)
        {
            if (!_byName.TryGetValue(name, out var console))
            {
                console = new DomainConsole(name, _state.ConsoleLog(name));
                _byName[name] = console;
            }

            _byId[domainId] = console;
        }
    }

    /// <summary>The domain id is gone; when its name has no new id (Forget), attached clients are told why.</summary>
    public void Unbind(int domainId)
    {
        lock (_lock)
        {
            _byId.Remove(domainId);
        }
    }

    public void Forget(string name, string reason)
    {
        lock (_lock)
        {
            if (_byName.Remove(name, out var console))
            {
                console.Close(reason);
            }
        }
    }

    public ConsoleSubscriber? Attach(int domainId, int replayBytes)
    {
        lock (_lock)
        {
            return _byId.TryGetValue(domainId, out var console) ? console.Attach(replayBytes) : null;
        }
    }

    public void Detach(ConsoleSubscriber subscriber)
    {
        lock (_lock)
        {
            foreach (var console in _byName.Values)
            {
                console.Detach(subscriber);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _pump.ConfigureAwait(false);
        lock (_lock)
        {
            foreach (var console in _byName.Values)
            {
                console.Close("the host is going down");
            }

            _byName.Clear();
            _byId.Clear();
        }

        _stop.Dispose();
    }

    /// <summary>
    /// Reads whatever the log has now; returns false when the kernel is gone. Called by the pump,
    /// and before a domain id is unbound, so what a guest wrote just before it shut down still
    /// reaches its console.
    /// </summary>
    public async Task<bool> DrainOnceAsync(CancellationToken cancel)
    {
        await _draining.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            return await DrainLockedAsync(cancel).ConfigureAwait(false);
        }
        finally
        {
            _draining.Release();
        }
    }

    private async Task<bool> DrainLockedAsync(CancellationToken cancel)
    {
        while (true)
        {
            MessageLogChunk chunk;
            try
            {
                chunk = await _kernel!.CallAsync<MessageLogChunk>(new ReadMessageLog(_offset, 64 * 1024), cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is KernelConnectionLostException or System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
            {
                return false;
            }

            _offset = chunk.NextOffset;
            if (chunk.Text.Length == 0)
            {
                return true;
            }

            lock (_lock)
            {
                _demux.Feed(chunk.Text, Deliver);
            }
        }
    }

    private void Deliver(int domainId, ReadOnlySpan<byte> text)
    {
        if (_byId.TryGetValue(domainId, out var console))
        {
            console.Write(text);
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            while (await DrainOnceAsync(_stop.Token).ConfigureAwait(false))
            {
                await Task.Delay(PollInterval, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // the host is going down
        }
    }
}
