using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography;
using Disagg.Control;
using Disagg.Kernel.Core;
using Microsoft.Extensions.Hosting;

namespace Disagg.Kernel.Control;

/// <summary>
/// The kernel's control socket: the control domain (holding the capability token printed at
/// start, which only the process that started the kernel sees) and registered service domains
/// connect here; each connection is a <see cref="ControlSession"/>. A hosted service: it listens
/// from construction (so the ready line is true when printed), accepts once started, and on stop
/// closes every session before the hypervisor it serves is disposed.
/// </summary>
internal sealed class KernelServer : IHostedService
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<ControlSession, Task> _sessions = new();
    private Task _accepting = Task.CompletedTask;

    public KernelServer(Hypervisor hypervisor, ServeOptions options)
    {
        var socketPath = options.Socket;
        Hypervisor = hypervisor;
        SocketPath = socketPath;
        ControlToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        if (File.Exists(socketPath))
        {
            File.Delete(socketPath); // a stale socket from a kernel that died
        }

        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(64);
    }

    public Hypervisor Hypervisor { get; }

    public string SocketPath { get; }

    /// <summary>What the control domain presents in Hello.</summary>
    public string ControlToken { get; }

    /// <summary>Service tokens the control domain registered: token -> service domain id.</summary>
    public ConcurrentDictionary<string, int> ServiceTokens { get; } = new();

    public Task StartAsync(CancellationToken cancel)
    {
        _accepting = AcceptAsync();
        return Task.CompletedTask;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var session = new ControlSession(this, new ControlConnection(socket));
            _sessions[session] = Task.Run(async () =>
            {
                await session.RunAsync().ConfigureAwait(false);
                _sessions.TryRemove(session, out _);
            });
        }
    }

    public async Task StopAsync(CancellationToken cancel)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        foreach (var (session, _) in _sessions)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        File.Delete(SocketPath);
        await _accepting.ConfigureAwait(false);
    }
}
