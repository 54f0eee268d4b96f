using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Host;
using Microsoft.Extensions.Hosting;

namespace Disagg.Toolstack.Daemon.Consoles;

/// <summary>
/// Every guest's console: its output appended to state-dir/console/guest-NAME.log and fanned out to
/// attached clients. Three sources, merged in arrival order:
/// <list type="bullet">
/// <item>the PV console ring (<see cref="ConsoleRings"/>: Xen's xencons page, input included);</item>
/// <item>an HVM guest's UART, through its qemu-dm's console socket (<see cref="UartLink"/>, input included);</item>
/// <item>the SBI console (legacy putchar, DBCN), read with ReadConsole when the kernel says it has new
/// bytes (<see cref="ConsoleActivity"/>, after <see cref="WatchConsoles"/>);</item>
/// <item>console_io, which the kernel puts in its message log as "(dN) " lines — until the domain's
/// ring carries output (a PV guest replays its console_io boot lines into the ring, and mirrors to
/// console_io only while nobody reads the ring).</item>
/// </list>
/// Nothing is polled: the pump waits for the kernel's console notices (one per source until it is read
/// again), and reads what they name until it is empty; an idle host wakes the daemon for nothing.
/// A hosted service: it starts once the kernel is up (it opens domain 0's service channel for the
/// rings) and stops before the kernel does.
/// </summary>
internal sealed class ConsoleHub : IHostedService
{
    private const int ChunkBytes = 64 * 1024;

    private readonly object _lock = new();
    private readonly Dictionary<string, DomainConsole> _byName = [];
    private readonly Dictionary<int, DomainConsole> _byId = [];
    private readonly Dictionary<int, SbiReader> _sbi = [];

    /// <summary>Sources to read: the kernel's notices, and a domain just bound (output from before it was bound).</summary>
    private readonly System.Threading.Channels.Channel<int> _due = System.Threading.Channels.Channel.CreateUnbounded<int>(new() { SingleReader = true });
    private readonly HashSet<int> _ringCarries = [];
    private readonly Dictionary<int, UartLink> _uarts = [];
    private readonly ConsoleDemux _demux = new();
    private readonly StateDir _state;
    private readonly DaemonLog _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _draining = new(1, 1);
    private KernelClient? _kernel;
    private ConsoleRings? _rings;
    private Task _pump = Task.CompletedTask;
    private Task _forward = Task.CompletedTask;
    private long _offset;

    private readonly KernelLink _link;

    public ConsoleHub(StateDir state, DaemonLog log, KernelLink link)
    {
        _state = state;
        _log = log;
        _link = link;
    }

    /// <summary>Whether guests' console rings are served (domain 0's service channel opened).</summary>
    public bool ServesRings => _rings is not null;

    public async Task StartAsync(CancellationToken cancel)
    {
        Directory.CreateDirectory(_state.ConsoleDir);
        _kernel = _link.Client;
        _rings = await ConsoleRings.OpenAsync(_link.Child.Socket, _link.Child.Token, _log, DeliverRing, cancel).ConfigureAwait(false);
        await _kernel.CallAsync<OkReply>(new WatchConsoles(), cancel).ConfigureAwait(false);
        _due.Writer.TryWrite(ConsoleActivity.MessageLog); // what the log holds from before the watch
        _forward = Task.Run(ForwardNoticesAsync, CancellationToken.None);
        _pump = Task.Run(PumpAsync, CancellationToken.None);
    }

    /// <summary>Binds a domain id to its name's console (a restarted domain keeps its log and its attached clients); starts reading its SBI console.</summary>
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
            _sbi[domainId] = new SbiReader();
        }

        _due.Writer.TryWrite(domainId); // a notice that came before the binding was not acted on
    }

    /// <summary>Connects the domain's PV console ring (before it is unpaused); a failure is logged, the console keeps its other sources.</summary>
    public async Task AttachRingAsync(int domainId, string name, int consolePort, CancellationToken cancel)
    {
        if (_rings is null)
        {
            return;
        }

        try
        {
            await _rings.AttachAsync(domainId, consolePort, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or Interop.InteropException)
        {
            _log.DomainProblem(name, $"console ring not connected: {e.Message}");
        }
    }

    /// <summary>Connects an HVM domain's console to its device model's UART socket (reconnecting across qemu-dm restarts until unbound).</summary>
    public void AttachUart(int domainId, string socketPath)
    {
        lock (_lock)
        {
            _uarts[domainId] = new UartLink(domainId, socketPath, DeliverUart);
        }
    }

    /// <summary>
    /// Keystrokes from an attached client: into an HVM guest's UART when it has one; into the domain's PV console ring once the guest uses it (it has
    /// written to it), else into its SBI console (legacy getchar / DBCN read, what an unmodified guest reads
    /// early in boot; every domain has a ring page, but only a PV console driver reads it). Input the
    /// kernel's bounded queue cannot take is dropped and logged, as a full ring's is.
    /// </summary>
    public async Task InputAsync(int domainId, byte[] bytes)
    {
        bool ringInUse;
        UartLink? uart;
        lock (_lock)
        {
            ringInUse = _ringCarries.Contains(domainId);
            _uarts.TryGetValue(domainId, out uart);
        }

        if (uart is not null)
        {
            if (!uart.Input(bytes))
            {
                _log.DomainProblem(NameOf(domainId), $"UART input not delivered: qemu-dm is not connected (restarting?); {bytes.Length} bytes dropped");
            }

            return;
        }

        if ((ringInUse && _rings?.Input(domainId, bytes) == true) || _kernel is not { } kernel)
        {
            return;
        }

        try
        {
            var accepted = await kernel.CallAsync<ConsoleInputAccepted>(new WriteConsoleInput(domainId, bytes)).ConfigureAwait(false);
            if (accepted.Bytes < bytes.Length)
            {
                _log.DomainProblem(NameOf(domainId), $"SBI console input full: {bytes.Length - accepted.Bytes} bytes dropped");
            }
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException)
        {
            _log.DomainProblem(NameOf(domainId), $"SBI console input not delivered: {e.Message}");
        }
    }

    private string NameOf(int domainId)
    {
        lock (_lock)
        {
            return _byId.TryGetValue(domainId, out var console) ? console.Name : $"domain {domainId}";
        }
    }

    /// <summary>
    /// The domain id is going: its readers stop and its ring is disconnected — before the domain is
    /// destroyed, unless <paramref name="domainGone"/> (call <see cref="DrainOnceAsync"/> first for its last output).
    /// </summary>
    public async Task UnbindAsync(int domainId, bool domainGone = false)
    {
        if (_rings is { } rings)
        {
            await rings.DetachAsync(domainId, domainGone).ConfigureAwait(false);
        }

        UartLink? uart;
        lock (_lock)
        {
            _byId.Remove(domainId);
            _sbi.Remove(domainId);
            _ringCarries.Remove(domainId);
            _uarts.Remove(domainId, out uart);
        }

        if (uart is not null)
        {
            await uart.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The kernel died: nothing more is read, and no ring is handed back to it.</summary>
    public void KernelDied()
    {
        if (_rings is { } rings)
        {
            rings.KernelGone = true;
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

    /// <summary>Every source stops; every attached client is told the host is going down.</summary>
    public async Task StopAsync(CancellationToken cancel)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _due.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
        await _forward.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_rings is not null)
        {
            await _rings.DisposeAsync().ConfigureAwait(false);
        }

        UartLink[] uarts;
        lock (_lock)
        {
            uarts = [.. _uarts.Values];
            _uarts.Clear();
        }

        foreach (var uart in uarts)
        {
            await uart.DisposeAsync().ConfigureAwait(false);
        }

        lock (_lock)
        {
            foreach (var console in _byName.Values)
            {
                console.Close("the host is going down");
            }

            _byName.Clear();
            _byId.Clear();
        }

    }

    /// <summary>
    /// Reads every source now; returns false when the kernel is gone. Called before a domain id is
    /// unbound, so what a guest wrote just before it shut down still reaches its console.
    /// </summary>
    public async Task<bool> DrainOnceAsync(CancellationToken cancel)
    {
        await _draining.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            _rings?.DrainAll();
            int[] domains;
            lock (_lock)
            {
                domains = [.. _sbi.Keys];
            }

            foreach (var d in domains)
            {
                await ReadSbiAsync(d, cancel).ConfigureAwait(false);
            }

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
                chunk = await _kernel!.CallAsync<MessageLogChunk>(new ReadMessageLog(_offset, ChunkBytes), cancel).ConfigureAwait(false);
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

    /// <summary>Reads a domain's SBI console until it is empty (caller holds _draining); a domain the kernel no longer has is dropped.</summary>
    private async Task ReadSbiAsync(int domainId, CancellationToken cancel)
    {
        SbiReader? reader;
        lock (_lock)
        {
            _sbi.TryGetValue(domainId, out reader);
        }

        while (reader is not null)
        {
            ConsoleChunk chunk;
            try
            {
                chunk = await _kernel!.CallAsync<ConsoleChunk>(new ReadConsole(domainId, reader.Offset, ChunkBytes), cancel).ConfigureAwait(false);
            }
            catch (KernelRequestException)
            {
                lock (_lock)
                {
                    _sbi.Remove(domainId); // the domain is gone
                }

                return;
            }

            reader.Offset = chunk.NextOffset;
            if (chunk.Text.Length == 0 && chunk.Missed == 0)
            {
                return;
            }

            lock (_lock)
            {
                if (_byId.TryGetValue(domainId, out var console))
                {
                    if (chunk.Missed > 0)
                    {
                        console.Write(System.Text.Encoding.ASCII.GetBytes($"\n[console: {chunk.Missed} bytes of SBI console output were lost]\n"));
                    }

                    console.Write(chunk.Text);
                }
            }

            if (chunk.Text.Length < ChunkBytes)
            {
                return; // drained: the kernel notifies again at the next byte
            }
        }
    }

    private void Deliver(int domainId, ReadOnlySpan<byte> text)
    {
        if (!_ringCarries.Contains(domainId) && _byId.TryGetValue(domainId, out var console))
        {
            console.Write(text);
        }
    }

    private void DeliverUart(int domainId, ReadOnlySpan<byte> text)
    {
        lock (_lock)
        {
            if (_byId.TryGetValue(domainId, out var console))
            {
                console.Write(text);
            }
        }
    }

    private void DeliverRing(int domainId, ReadOnlySpan<byte> text)
    {
        lock (_lock)
        {
            _ringCarries.Add(domainId);
            if (_byId.TryGetValue(domainId, out var console))
            {
                console.Write(text);
            }
        }
    }

    /// <summary>The kernel's notices into <see cref="_due"/>; ends when the kernel connection does.</summary>
    private async Task ForwardNoticesAsync()
    {
        try
        {
            await foreach (var notice in _kernel!.ConsoleActivity.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                _due.Writer.TryWrite(notice.DomainId);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or KernelConnectionLostException)
        {
            // the host is going down, or the kernel is gone
        }
        finally
        {
            _due.Writer.TryComplete();
        }
    }

    /// <summary>Waits for a source with new bytes and reads it; sleeps while every guest is quiet.</summary>
    private async Task PumpAsync()
    {
        try
        {
            while (await _due.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                await _draining.WaitAsync(_stop.Token).ConfigureAwait(false);
                try
                {
                    while (_due.Reader.TryRead(out var source))
                    {
                        if (source == ConsoleActivity.MessageLog)
                        {
                            if (!await DrainLockedAsync(_stop.Token).ConfigureAwait(false))
                            {
                                return;
                            }
                        }
                        else
                        {
                            await ReadSbiAsync(source, _stop.Token).ConfigureAwait(false);
                        }
                    }
                }
                catch (Exception e) when (e is KernelConnectionLostException or System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
                {
                    return; // the kernel is gone
                }
                finally
                {
                    _draining.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the host is going down
        }
    }

    /// <summary>Where a domain's SBI console was read up to.</summary>
    private sealed class SbiReader
    {
        public long Offset { get; set; }
    }
}
