using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography;
using Disagg.Control;
using Disagg.Kernel.Core;

namespace Disagg.Kernel.Control;

/// <summary>
/// The kernel's control socket: the control domain (holding the capability token printed at
/// start, which only the process that started the kernel sees) and registered service domains
/// connect here; each connection is a <see cref="ControlSession"/>.
/// </summary>
internal sealed class KernelServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<ControlSession, Task> _sessions = new();

    public KernelServer(Hypervisor hypervisor, string socketPath)
    {
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

    public async Task RunAsync()
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

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        foreach (var (session, _) in _sessions)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        File.Delete(SocketPath);
        _stop.Dispose();
    }
}
