using System.Threading.Channels;
using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Kernel.Core.Domains;

namespace Disagg.Kernel.Control;

/// <summary>
/// One control connection: it must first say who it is (Hello with a token); then each request
/// gets exactly one reply. Only the control domain may manage domains or register services.
/// A request that fails gets an ErrorReply naming the domain and the reason; a peer that breaks
/// the protocol is disconnected; neither disturbs any other connection.
/// </summary>
internal sealed partial class ControlSession(KernelServer server, ControlConnection connection) : IAsyncDisposable
{
    private readonly Channel<Outgoing> _outbox = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private ServiceDomain? _service;
    private bool _privileged;
    private int _domainId = -1;
    private bool _subscribed;

    public async Task RunAsync()
    {
        var writer = Task.Run(WriteLoop);
        try
        {
            while (await connection.ReceiveAsync().ConfigureAwait(false) is { } request)
            {
                var reply = Handle(request, out var fds) with { Id = request.Id };
                _outbox.Writer.TryWrite(new Outgoing(reply, fds));
                if (_domainId < 0)
                {
                    break; // a failed Hello: nothing more from this peer
                }
            }
        }
        catch (Exception e) when (e is ControlProtocolException or System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
        {
            server.Hypervisor.Log.WriteKernel($"control connection dropped: {e.Message}");
        }
        finally
        {
            if (_subscribed)
            {
                server.Hypervisor.StateChanged -= OnStateChanged;
            }

            StopWatchingConsoles();

            _outbox.Writer.TryComplete();
            await writer.ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
            if (_service != null)
            {
                server.Hypervisor.CloseService(_service);
            }
        }
    }

    public async ValueTask DisposeAsync() => await connection.DisposeAsync().ConfigureAwait(false);

    private static ErrorReply Error(XenErrno errno, string message) => new((int)errno, message);

    private async Task WriteLoop()
    {
        try
        {
            await foreach (var (message, fds) in _outbox.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    if (fds is null)
                    {
                        await connection.SendAsync(message).ConfigureAwait(false);
                    }
                    else
                    {
                        await connection.SendAsync(message, fds).ConfigureAwait(false);
                    }
                }
                finally
                {
                    // What we sent were duplicates made for this reply; the peer has its own now.
                    foreach (var fd in fds ?? [])
                    {
                        fd.Dispose();
                    }
                }
            }
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
        {
            // the peer went away; the reader side notices too
        }
    }

    private void OnStateChanged(DomainStateChange change) =>
        _outbox.Writer.TryWrite(new Outgoing(new DomainEvent(change.DomainId, DomainRequests.StateLetter(change.State), (int)change.Reason, change.TimestampNs, change.Detail ?? ""), null));

    private ControlMessage Handle(ControlMessage request, out Disagg.Interop.FileDescriptor[]? fds)
    {
        fds = null;
        if (_domainId >= 0 && request is OpenServiceChannel or AllocUnboundPort or BindInterdomainPort or SendEvent
            or CloseEventPort or MapGrantRef or UnmapGrantRef or GrantCopyBatch or AllocSharedPage)
        {
            try
            {
                return HandleService(request, out fds);
            }
            catch (DomainRequestException e)
            {
                return Error(e.Errno, e.Message);
            }
        }

        if (_domainId >= 0 && IsDeviceModelRequest(request))
        {
            try
            {
                return HandleDeviceModel(request, out fds);
            }
            catch (DomainRequestException e)
            {
                return Error(e.Errno, e.Message);
            }
        }

        if (_domainId < 0)
        {
            return request is Hello hello ? Authenticate(hello) : Error(XenErrno.EACCES, "say Hello with a token first");
        }

        try
        {
            return request switch
            {
                GetHostInfo => DomainRequests.HostInfo(server.Hypervisor),
                GetHostCounters => DomainRequests.Counters(server.Hypervisor),
                ListDomains => DomainRequests.List(server.Hypervisor),
                ReadMessageLog r => ReadLogRearmed(r),
                Subscribe => SubscribeToEvents(),
                _ when !_privileged => Error(XenErrno.EPERM, $"domain {_domainId} may not {request.GetType().Name}: only the control domain may"),
                CreateDomain c => DomainRequests.Create(server.Hypervisor, c),
                LoadKernel l => DomainRequests.Load(server.Hypervisor, l),
                DomainCommand d => DomainRequests.Command(server.Hypervisor, d),
                SetMemory m => DomainRequests.SetMemory(server.Hypervisor, m),
                SetSchedCredit s => DomainRequests.SetSchedCredit(server.Hypervisor, s),
                SetVcpuAffinity a => DomainRequests.SetAffinity(server.Hypervisor, a),
                SetVcpusOnline o => DomainRequests.SetVcpusOnline(server.Hypervisor, o),
                ListVcpus v => DomainRequests.ListVcpus(server.Hypervisor, v),
                SaveDomain s => PersistRequests.Save(server.Hypervisor, s),
                RestoreDomain r => PersistRequests.Restore(server.Hypervisor, r),
                CleanDirtyLog c => MigrationRequests.Clean(server.Hypervisor, c),
                HashMemory h => MigrationRequests.Hash(server.Hypervisor, h),
                MigrationSend m => MigrationRequests.Send(server.Hypervisor, m, connection.TakeFileDescriptors(1)[0]),
                MigrationReceive m => MigrationRequests.Receive(server.Hypervisor, m, connection.TakeFileDescriptors(1)[0]),
                RegisterService r => Register(r),
                ReadConsole c => ReadConsoleRearmed(c),
                WatchConsoles => StartWatchingConsoles(),
                WriteConsoleInput w => DomainRequests.WriteConsoleInput(server.Hypervisor, w),
                Hello => Error(XenErrno.EINVAL, "already said Hello"),
                _ => Error(XenErrno.ENOSYS, $"{request.GetType().Name} is not a request"),
            };
        }
        catch (DomainRequestException e)
        {
            return Error(e.Errno, e.Message);
        }
    }

    private ControlMessage Authenticate(Hello hello)
    {
        if (hello.ProtocolVersion != ControlCodec.ProtocolVersion)
        {
            return Error(XenErrno.EINVAL, $"protocol version {hello.ProtocolVersion}; this kernel speaks {ControlCodec.ProtocolVersion}");
        }

        if (hello.Token == server.ControlToken)
        {
            _privileged = true;
            _domainId = 0;
        }
        else if (server.ServiceTokens.TryGetValue(hello.Token, out var service))
        {
            _domainId = service;
        }
        else
        {
            return Error(XenErrno.EACCES, "unknown token");
        }

        connection.MaxFrame = _privileged ? ControlCodec.MaxFrame : 1 << 20;
        connection.AcceptFileDescriptors = _privileged; // MigrationSend/MigrationReceive carry the migration's socket
        return new HelloReply(_domainId, _privileged, KernelVersion.Value, ControlCodec.ProtocolVersion);
    }

    private readonly record struct Outgoing(ControlMessage Message, Disagg.Interop.FileDescriptor[]? Fds);

    private OkReply SubscribeToEvents()
    {
        if (!_subscribed)
        {
            _subscribed = true;
            server.Hypervisor.StateChanged += OnStateChanged;
        }

        return new OkReply();
    }

    private ControlMessage Register(RegisterService r)
    {
        if (r.DomainId <= 0 || !server.Hypervisor.Domains.TryReserve(r.DomainId))
        {
            return Error(XenErrno.EEXIST, $"service '{r.Name}': domain id {r.DomainId} is taken or invalid");
        }

        var token = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        server.ServiceTokens[token] = r.DomainId;
        server.Hypervisor.Log.WriteKernel($"registered service '{r.Name}' as domain {r.DomainId}");
        return new ServiceRegistered(r.DomainId, token);
    }
}
