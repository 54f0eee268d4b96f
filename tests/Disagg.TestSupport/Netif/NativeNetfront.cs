using System.Globalization;
using Disagg.Abi.Io;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Ring;
using Disagg.Service;
using Disagg.Xenbus;

namespace Disagg.TestSupport.Netif;

/// <summary>
/// A netif frontend as a native process (a service domain with a grant table of its own), so netback can be
/// driven at full speed without an emulated CPU: it writes the vif's frontend and backend directories as the
/// toolstack would, grants two shared pages as its rings and its copy-buffer pages as packet buffers, and runs
/// the xenbus handshake. Not thread-safe: one thread sends, receives and polls (see <see cref="NetfrontStation"/>).
/// Grant refs: 0 tx ring, 1 rx ring, 2.. tx buffers (read-only), then rx buffers (writable).
/// </summary>
public sealed class NativeNetfront : IAsyncDisposable
{
    public const int TxBuffers = 256;
    public const int RxBuffers = 256;
    private const uint TxRingRef = 0;
    private const uint RxRingRef = 1;
    private const uint FirstTxRef = 2;
    private const uint FirstRxRef = FirstTxRef + TxBuffers;

    private readonly XenstoreClient _xs;
    private readonly SharedPage _txPage;
    private readonly SharedPage _rxPage;
    private readonly Stack<ushort> _freeTx = new();
    private readonly bool[] _txInFlight = new bool[TxBuffers];
    private readonly NetifTxResponse[] _txResponses = new NetifTxResponse[256];
    private readonly NetifRxResponse[] _rxResponses = new NetifRxResponse[256];

    private unsafe NativeNetfront(ServiceChannel channel, XenstoreClient xs, int domain, VifDescription vif, int backendDomain, SharedPage txPage, SharedPage rxPage)
    {
        Channel = channel;
        _xs = xs;
        Domain = domain;
        Vif = vif;
        BackendDomain = backendDomain;
        _txPage = txPage;
        _rxPage = rxPage;
        Tx = new FrontRing<NetifTxRequest, NetifTxResponse>($"fe{domain}-tx", txPage.Pointer, RingGeometry.PageSize);
        Rx = new FrontRing<NetifRxRequest, NetifRxResponse>($"fe{domain}-rx", rxPage.Pointer, RingGeometry.PageSize);
        for (var i = TxBuffers - 1; i >= 0; i--)
        {
            _freeTx.Push((ushort)i);
        }
    }

    public ServiceChannel Channel { get; }

    public int Domain { get; }

    public VifDescription Vif { get; }

    public int BackendDomain { get; }

    public int Port { get; private set; }

    public FrontRing<NetifTxRequest, NetifTxResponse> Tx { get; }

    public FrontRing<NetifRxRequest, NetifRxResponse> Rx { get; }

    /// <summary>The tx ring's shared page, for tests that write garbage into it.</summary>
    public unsafe byte* TxRingPage => _txPage.Pointer;

    public string FrontendPath => XenbusPaths.Frontend(Domain, "vif", Vif.Device);

    public string BackendPath => XenbusPaths.Backend(BackendDomain, "vif", Domain, Vif.Device);

    public long TxOkay { get; private set; }

    public long TxErrors { get; private set; }

    public long TxDropped { get; private set; }

    public long RxFrames { get; private set; }

    public long RxErrors { get; private set; }

    /// <summary>Registers domain <paramref name="domain"/> as a service, opens its channel, writes the vif's xenstore directories and connects to netback.</summary>
    public static async Task<NativeNetfront> StartAsync(KernelProcess kernel, KernelClient control, string xenstoreSocket, int domain, VifDescription vif, int backendDomain, TimeSpan? patience = null)
    {
        var token = (await control.CallAsync<ServiceRegistered>(new RegisterService("netfront" + domain.ToString(CultureInfo.InvariantCulture), domain)).ConfigureAwait(false)).Token;
        var channel = await ServiceChannel.OpenAsync(kernel.Socket, token, TxBuffers + RxBuffers, grantFrames: 2).ConfigureAwait(false);
        var xs = await XenstoreClient.ConnectAsync(xenstoreSocket, CancellationToken.None).ConfigureAwait(false);
        var tx = await channel.AllocSharedPageAsync().ConfigureAwait(false);
        var rx = await channel.AllocSharedPageAsync().ConfigureAwait(false);
        var fe = new NativeNetfront(channel, xs, domain, vif, backendDomain, tx, rx);
        await fe.WriteDeviceAsync().ConfigureAwait(false);
        await fe.ConnectAsync(patience ?? TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        return fe;
    }

    /// <summary>Queues one frame (copied into a tx buffer); false if no buffer or slot is free. <see cref="Flush"/> publishes.</summary>
    public bool TrySend(ReadOnlySpan<byte> frame, ushort? sizeOverride = null, ushort offset = 0, uint? grefOverride = null, ushort flags = 0)
    {
        if (_freeTx.Count == 0 || Tx.FreeRequests == 0)
        {
            ReapTx();
            if (_freeTx.Count == 0 || Tx.FreeRequests == 0)
            {
                return false;
            }
        }

        var id = _freeTx.Pop();
        _txInFlight[id] = true;
        frame.CopyTo(Channel.BufferPage(id)[offset..]);
        ref var req = ref Tx.NextRequest();
        req.Gref = grefOverride ?? (FirstTxRef + id);
        req.Offset = offset;
        req.Flags = flags;
        req.Id = id;
        req.Size = sizeOverride ?? (ushort)frame.Length;
        return true;
    }

    /// <summary>Publishes queued tx requests; notifies netback only if it asked (ring.h).</summary>
    public void Flush()
    {
        if (Tx.PushRequests())
        {
            Notify();
        }
    }

    /// <summary>Takes tx responses, freeing their buffers and counting their statuses.</summary>
    public int ReapTx()
    {
        var total = 0;
        int n;
        while ((n = Tx.TakeResponses(_txResponses)) > 0)
        {
            for (var i = 0; i < n; i++)
            {
                var r = _txResponses[i];
                switch (r.Status)
                {
                    case NetifTxResponse.StatusOkay: TxOkay++; break;
                    case NetifTxResponse.StatusDropped: TxDropped++; break;
                    case NetifTxResponse.StatusNull: break;
                    default: TxErrors++; break;
                }

                if (r.Id < TxBuffers && _txInFlight[r.Id])
                {
                    _txInFlight[r.Id] = false;
                    _freeTx.Push(r.Id);
                }
            }

            total += n;
        }

        return total;
    }

    /// <summary>Hands every received frame to <paramref name="onFrame"/> and re-posts its buffer; returns how many.</summary>
    public int Receive(FrameHandler onFrame)
    {
        var total = 0;
        int n;
        while ((n = Rx.TakeResponses(_rxResponses)) > 0)
        {
            for (var i = 0; i < n; i++)
            {
                var r = _rxResponses[i];
                if (r.Status > 0 && r.Id < RxBuffers && r.Offset + r.Status <= RingGeometry.PageSize)
                {
                    RxFrames++;
                    onFrame(Channel.BufferPage(TxBuffers + r.Id).Slice(r.Offset, r.Status));
                }
                else
                {
                    RxErrors++;
                }

                Post(r.Id);
            }

            total += n;
        }

        if (total > 0 && Rx.PushRequests())
        {
            Notify();
        }

        return total;
    }

    /// <summary>Asks to be woken for responses on both rings and sleeps until an event or the timeout.</summary>
    public void Wait(TimeSpan timeout)
    {
        if (Rx.FinalCheckForResponses() | Tx.FinalCheckForResponses())
        {
            return;
        }

        Channel.WaitForEvents(timeout);
        Span<int> ports = stackalloc int[8];
        while (Channel.TakePendingEvents(ports) == ports.Length)
        {
        }
    }

    public void Notify()
    {
        if (!Channel.Notify(Port))
        {
            Channel.NotifyAsync(Port).GetAwaiter().GetResult();
        }
    }

    /// <summary>The backend's state node, as netback last wrote it.</summary>
    public async Task<XenbusState> BackendStateAsync() =>
        XenbusStates.Parse(await _xs.ReadAsync(XenstoreClient.NoTransaction, BackendPath + "/state", CancellationToken.None).ConfigureAwait(false));

    public Task<string?> ReadAsync(string path) => _xs.ReadAsync(XenstoreClient.NoTransaction, path, CancellationToken.None);

    public Task WriteAsync(string path, string value) => _xs.WriteAsync(XenstoreClient.NoTransaction, path, value, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _xs.RmAsync(XenstoreClient.NoTransaction, BackendPath, CancellationToken.None).ConfigureAwait(false);
            await _xs.RmAsync(XenstoreClient.NoTransaction, FrontendPath, CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // xenstored is gone already (fixture teardown order)
        }

        await _xs.DisposeAsync().ConfigureAwait(false);
        _txPage.Dispose();
        _rxPage.Dispose();
        await Channel.DisposeAsync().ConfigureAwait(false);
    }

    private void Post(ushort id)
    {
        ref var req = ref Rx.NextRequest();
        req.Id = id;
        req.Gref = FirstRxRef + id;
    }

    private async Task WriteDeviceAsync()
    {
        string N(int n) => n.ToString(CultureInfo.InvariantCulture);
        var fe = FrontendPath;
        var be = BackendPath;
        var x = XenstoreClient.NoTransaction;
        var c = CancellationToken.None;
        // The toolstack's keys (services/toolstack/Xenstore/XenstoreDomains.cs), frontend directory first.
        await _xs.WriteAsync(x, fe + "/backend", be, c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/backend-id", N(BackendDomain), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/handle", N(Vif.Device), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/mac", Vif.Mac, c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/mtu", N(Vif.Mtu), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/state", "1", c).ConfigureAwait(false);
        var tx = XenstoreClient.NoTransaction;
        await _xs.WriteAsync(tx, be + "/frontend-id", N(Domain), c).ConfigureAwait(false);
        await _xs.WriteAsync(tx, be + "/online", "1", c).ConfigureAwait(false);
        await _xs.WriteAsync(tx, be + "/state", "1", c).ConfigureAwait(false);
        await _xs.WriteAsync(tx, be + "/handle", N(Vif.Device), c).ConfigureAwait(false);
        await _xs.WriteAsync(tx, be + "/mac", Vif.Mac, c).ConfigureAwait(false);
        await _xs.WriteAsync(tx, be + "/bridge", Vif.Bridge, c).ConfigureAwait(false);
        await _xs.WriteAsync(tx, be + "/mtu", N(Vif.Mtu), c).ConfigureAwait(false);
        await _xs.WriteAsync(tx, be + "/type", "vif", c).ConfigureAwait(false);
        if (Vif.Rate is { } rate)
        {
            await _xs.WriteAsync(tx, be + "/rate", rate, c).ConfigureAwait(false);
        }

        await _xs.WriteAsync(tx, be + "/frontend", fe, c).ConfigureAwait(false); // last: netback takes the device up when this appears
    }

    private async Task ConnectAsync(TimeSpan patience)
    {
        await WaitForBackendAsync(XenbusState.InitWait, patience).ConfigureAwait(false);
        var grants = Channel.Grants!;
        grants.GrantAccess(TxRingRef, BackendDomain, _txPage.Frame, readOnly: false);
        grants.GrantAccess(RxRingRef, BackendDomain, _rxPage.Frame, readOnly: false);
        for (var i = 0; i < TxBuffers; i++)
        {
            grants.GrantAccess(FirstTxRef + (uint)i, BackendDomain, (ulong)i, readOnly: true);
        }

        for (var i = 0; i < RxBuffers; i++)
        {
            grants.GrantAccess(FirstRxRef + (uint)i, BackendDomain, (ulong)(TxBuffers + i), readOnly: false);
        }

        for (var i = 0; i < Math.Min(RxBuffers, Rx.Size); i++)
        {
            Post((ushort)i);
        }

        Rx.PushRequests();
        Port = await Channel.AllocUnboundAsync(BackendDomain).ConfigureAwait(false);
        string N(long n) => n.ToString(CultureInfo.InvariantCulture);
        var fe = FrontendPath;
        var x = XenstoreClient.NoTransaction;
        var c = CancellationToken.None;
        await _xs.WriteAsync(x, fe + "/tx-ring-ref", N(TxRingRef), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/rx-ring-ref", N(RxRingRef), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/event-channel", N(Port), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/request-rx-copy", "1", c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/feature-rx-notify", "1", c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/state", "3", c).ConfigureAwait(false);
        await WaitForBackendAsync(XenbusState.Connected, patience).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/state", "4", c).ConfigureAwait(false);
    }

    public async Task WaitForBackendAsync(XenbusState state, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        XenbusState now;
        while ((now = await BackendStateAsync().ConfigureAwait(false)) != state)
        {
            if (DateTime.UtcNow > deadline)
            {
                var error = await ReadAsync(BackendPath + "/error").ConfigureAwait(false);
                throw new TimeoutException($"vif {Domain}.{Vif.Device}: backend state {now}, not {state}, after {patience.TotalSeconds} s (error: {error ?? "none"})");
            }

            await Task.Delay(10).ConfigureAwait(false);
        }
    }
}

/// <summary>Receives one frame (valid only during the call).</summary>
public delegate void FrameHandler(ReadOnlySpan<byte> frame);
