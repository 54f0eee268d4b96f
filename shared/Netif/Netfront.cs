using System.Globalization;
using Disagg.Abi.Io;
using Disagg.Control;
using Disagg.Ring;
using Disagg.Service;
using Disagg.Xenbus;

namespace Disagg.Netif;

/// <summary>
/// A netif frontend run by a native service domain (its own grant table, shared pages for its rings, its copy
/// buffer's pages as packet buffers): qemu-dm's emulated NICs, and the native frontends tests and benchmarks
/// drive netback with. The vif belongs to the service's own domain (frontend-id), as a Xen stub domain's vif
/// does, so netback trusts it exactly as far as any guest: the MAC, bridge, MTU and rate in the backend
/// directory are the toolstack's, and anti-spoofing holds the frontend to that MAC.
/// Not thread-safe: one thread sends, receives and polls. Grant refs from <see cref="NetfrontLayout.FirstRef"/>:
/// tx ring, rx ring, tx buffers (read-only), then rx buffers (writable); buffer pages from
/// <see cref="NetfrontLayout.FirstPage"/>: tx buffers, then rx buffers.
/// </summary>
public class Netfront : IAsyncDisposable
{
    public const int TxBuffers = 256;
    public const int RxBuffers = 256;

    /// <summary>Grant refs one frontend uses: its two rings and its buffers.</summary>
    public const int Refs = 2 + TxBuffers + RxBuffers;

    /// <summary>Copy-buffer pages one frontend uses.</summary>
    public const int Pages = TxBuffers + RxBuffers;

    private readonly XenstoreClient _xs;
    private readonly SharedPage _txPage;
    private readonly SharedPage _rxPage;
    private readonly NetfrontLayout _layout;
    private readonly ushort[] _freeTx = new ushort[TxBuffers];
    private readonly bool[] _txInFlight = new bool[TxBuffers];
    private readonly NetifTxResponse[] _txResponses = new NetifTxResponse[256];
    private int _freeCount;
    private NetifRxResponse _held;
    private bool _holding;

    protected unsafe Netfront(ServiceChannel channel, XenstoreClient xs, VifDescription vif, int backendDomain, SharedPage txPage, SharedPage rxPage, NetfrontLayout layout)
    {
        Channel = channel;
        _xs = xs;
        Domain = channel.DomainId;
        Vif = vif;
        BackendDomain = backendDomain;
        _txPage = txPage;
        _rxPage = rxPage;
        _layout = layout;
        Tx = new FrontRing<NetifTxRequest, NetifTxResponse>($"fe{Domain}.{vif.Device}-tx", txPage.Pointer, RingGeometry.PageSize);
        Rx = new FrontRing<NetifRxRequest, NetifRxResponse>($"fe{Domain}.{vif.Device}-rx", rxPage.Pointer, RingGeometry.PageSize);
        for (var i = TxBuffers - 1; i >= 0; i--)
        {
            _freeTx[_freeCount++] = (ushort)i;
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

    /// <summary>The largest frame netback takes from this vif: the MTU plus an Ethernet header with a VLAN tag, within one page.</summary>
    public int MaxFrame => Math.Min(Vif.Mtu + 18, RingGeometry.PageSize);

    public long TxOkay { get; private set; }

    public long TxErrors { get; private set; }

    public long TxDropped { get; private set; }

    public long RxFrames { get; private set; }

    public long RxErrors { get; private set; }

    /// <summary>
    /// Allocates the rings and connects to the backend: writes the frontend directory (and, when
    /// <paramref name="writeToolstackKeys"/>, the backend directory the toolstack would write), then the handshake.
    /// A frontend whose predecessor died starts over (Initialising, the backend drops the old rings and goes back
    /// to InitWait), so this is also how a restarted service reconnects.
    /// </summary>
    public static async Task<Netfront> ConnectAsync(ServiceChannel channel, XenstoreClient xs, VifDescription vif, int backendDomain, NetfrontLayout layout, bool writeToolstackKeys, TimeSpan patience, CancellationToken cancel = default)
    {
        var (tx, rx) = await AllocRingsAsync(channel, cancel).ConfigureAwait(false);
        var fe = new Netfront(channel, xs, vif, backendDomain, tx, rx, layout);
        try
        {
            await fe.HandshakeAsync(writeToolstackKeys, patience, cancel).ConfigureAwait(false);
        }
        catch
        {
            await fe.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return fe;
    }

    protected static async Task<(SharedPage Tx, SharedPage Rx)> AllocRingsAsync(ServiceChannel channel, CancellationToken cancel)
    {
        var tx = await channel.AllocSharedPageAsync(cancel).ConfigureAwait(false);
        var rx = await channel.AllocSharedPageAsync(cancel).ConfigureAwait(false);
        return (tx, rx);
    }

    /// <summary>Queues one frame (copied into a tx buffer); false if no buffer or slot is free. <see cref="Flush"/> publishes.</summary>
    public bool TrySend(ReadOnlySpan<byte> frame, ushort? sizeOverride = null, ushort offset = 0, uint? grefOverride = null, ushort flags = 0)
    {
        if (_freeCount == 0 || Tx.FreeRequests == 0)
        {
            ReapTx();
            if (_freeCount == 0 || Tx.FreeRequests == 0)
            {
                return false;
            }
        }

        var id = _freeTx[--_freeCount];
        _txInFlight[id] = true;
        frame.CopyTo(Channel.BufferPage(_layout.FirstPage + id)[offset..]);
        ref var req = ref Tx.NextRequest();
        req.Gref = grefOverride ?? (FirstTxRef + id);
        req.Offset = offset;
        req.Flags = flags;
        req.Id = id;
        req.Size = sizeOverride ?? (ushort)frame.Length;
        return true;
    }

    /// <summary>Publishes queued tx requests; notifies the backend only if it asked (ring.h).</summary>
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
                    _freeTx[_freeCount++] = r.Id;
                }
            }

            total += n;
        }

        return total;
    }

    /// <summary>Hands every received frame to <paramref name="onFrame"/> and re-posts its buffer; returns how many.</summary>
    public int Receive(FrameHandler onFrame) => Receive(frame =>
    {
        onFrame(frame);
        return true;
    });

    /// <summary>
    /// Offers received frames to <paramref name="sink"/> in order, re-posting each buffer it took. A frame the
    /// sink refuses (its consumer has no room) stays in its buffer and is offered first next time: the rx ring
    /// then runs out of posted buffers and netback holds or drops further frames, as it does for any slow guest.
    /// </summary>
    public int Receive(FrameSink sink)
    {
        var total = 0;
        while (_holding || Rx.TryTakeResponse(out _held))
        {
            _holding = true;
            var r = _held;
            if (r.Status > 0 && r.Id < RxBuffers && r.Offset + r.Status <= RingGeometry.PageSize)
            {
                if (!sink(Channel.BufferPage(_layout.FirstPage + TxBuffers + r.Id).Slice(r.Offset, r.Status)))
                {
                    break;
                }

                RxFrames++;
            }
            else
            {
                RxErrors++;
            }

            _holding = false;
            Post(r.Id);
            total++;
        }

        if (total > 0 && Rx.PushRequests())
        {
            Notify();
        }

        return total;
    }

    /// <summary>ring.h's final check on both rings: true if responses wait (do not sleep), else the backend will notify.</summary>
    public bool PrepareToWait() => (!_holding && Rx.FinalCheckForResponses()) | Tx.FinalCheckForResponses();

    /// <summary>Asks to be woken for responses on both rings and sleeps until an event or the timeout.</summary>
    public void Wait(TimeSpan timeout)
    {
        if (PrepareToWait())
        {
            return;
        }

        Channel.WaitForEvents(timeout);
        Span<int> ports = stackalloc int[8];
        while (Channel.TakePendingEvents(ports) == ports.Length)
        {
        }
    }

    /// <summary>EVTCHNOP_send on the vif's port. A port the backend has not bound (it is restarting) drops the event, as Xen does.</summary>
    public void Notify()
    {
        if (!Channel.Notify(Port))
        {
            try
            {
                Channel.NotifyAsync(Port).GetAwaiter().GetResult();
            }
            catch (KernelRequestException)
            {
                // The backend went away between our push and this send; its successor resumes from the ring indices.
            }
        }
    }

    /// <summary>The backend's state node, as netback last wrote it.</summary>
    public async Task<XenbusState> BackendStateAsync() =>
        XenbusStates.Parse(await _xs.ReadAsync(XenstoreClient.NoTransaction, BackendPath + "/state", CancellationToken.None).ConfigureAwait(false));

    public Task<string?> ReadAsync(string path) => _xs.ReadAsync(XenstoreClient.NoTransaction, path, CancellationToken.None);

    public Task WriteAsync(string path, string value) => _xs.WriteAsync(XenstoreClient.NoTransaction, path, value, CancellationToken.None);

    /// <summary>Removes the vif's frontend and backend directories (the device is gone for good: its domain was destroyed).</summary>
    public async Task RemoveDeviceAsync()
    {
        await _xs.RmAsync(XenstoreClient.NoTransaction, BackendPath, CancellationToken.None).ConfigureAwait(false);
        await _xs.RmAsync(XenstoreClient.NoTransaction, FrontendPath, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Unmaps the ring pages; the xenstore directories stay (a successor starts over on them).</summary>
    public virtual ValueTask DisposeAsync()
    {
        _txPage.Dispose();
        _rxPage.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    public async Task WaitForBackendAsync(XenbusState state, TimeSpan patience, CancellationToken cancel = default)
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

            await Task.Delay(10, cancel).ConfigureAwait(false);
        }
    }

    protected async Task HandshakeAsync(bool writeToolstackKeys, TimeSpan patience, CancellationToken cancel)
    {
        if (writeToolstackKeys)
        {
            await WriteToolstackKeysAsync(cancel).ConfigureAwait(false);
        }
        else
        {
            await _xs.WriteAsync(XenstoreClient.NoTransaction, FrontendPath + "/state", "1", cancel).ConfigureAwait(false);
        }

        await WaitForBackendAsync(XenbusState.InitWait, patience, cancel).ConfigureAwait(false);
        var grants = Channel.Grants ?? throw new InvalidOperationException($"domain {Domain}: a netfront needs a channel opened with a grant table");
        grants.GrantAccess(TxRingRef, BackendDomain, _txPage.Frame, readOnly: false);
        grants.GrantAccess(RxRingRef, BackendDomain, _rxPage.Frame, readOnly: false);
        for (var i = 0; i < TxBuffers; i++)
        {
            grants.GrantAccess(FirstTxRef + (uint)i, BackendDomain, (ulong)(_layout.FirstPage + i), readOnly: true);
        }

        for (var i = 0; i < RxBuffers; i++)
        {
            grants.GrantAccess(FirstRxRef + (uint)i, BackendDomain, (ulong)(_layout.FirstPage + TxBuffers + i), readOnly: false);
        }

        for (var i = 0; i < Math.Min(RxBuffers, Rx.Size); i++)
        {
            Post((ushort)i);
        }

        Rx.PushRequests();
        Port = await Channel.AllocUnboundAsync(BackendDomain, cancel).ConfigureAwait(false);
        var fe = FrontendPath;
        var x = XenstoreClient.NoTransaction;
        await _xs.WriteAsync(x, fe + "/tx-ring-ref", N(TxRingRef), cancel).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/rx-ring-ref", N(RxRingRef), cancel).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/event-channel", N(Port), cancel).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/request-rx-copy", "1", cancel).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/feature-rx-notify", "1", cancel).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/state", "3", cancel).ConfigureAwait(false);
        await WaitForBackendAsync(XenbusState.Connected, patience, cancel).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/state", "4", cancel).ConfigureAwait(false);
    }

    private uint TxRingRef => _layout.FirstRef;

    private uint RxRingRef => _layout.FirstRef + 1;

    private uint FirstTxRef => _layout.FirstRef + 2;

    private uint FirstRxRef => FirstTxRef + TxBuffers;

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

    private void Post(ushort id)
    {
        ref var req = ref Rx.NextRequest();
        req.Id = id;
        req.Gref = FirstRxRef + id;
    }

    /// <summary>The keys a toolstack writes for a vif (services/toolstack/Xenstore/XenstoreDomains.cs), frontend directory first, `frontend` last.</summary>
    private async Task WriteToolstackKeysAsync(CancellationToken c)
    {
        var fe = FrontendPath;
        var be = BackendPath;
        var x = XenstoreClient.NoTransaction;
        await _xs.WriteAsync(x, fe + "/backend", be, c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/backend-id", N(BackendDomain), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/handle", N(Vif.Device), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/mac", Vif.Mac, c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/mtu", N(Vif.Mtu), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, fe + "/state", "1", c).ConfigureAwait(false);
        await _xs.WriteAsync(x, be + "/frontend-id", N(Domain), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, be + "/online", "1", c).ConfigureAwait(false);
        await _xs.WriteAsync(x, be + "/state", "1", c).ConfigureAwait(false);
        await _xs.WriteAsync(x, be + "/handle", N(Vif.Device), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, be + "/mac", Vif.Mac, c).ConfigureAwait(false);
        await _xs.WriteAsync(x, be + "/bridge", Vif.Bridge, c).ConfigureAwait(false);
        await _xs.WriteAsync(x, be + "/mtu", N(Vif.Mtu), c).ConfigureAwait(false);
        await _xs.WriteAsync(x, be + "/type", "vif", c).ConfigureAwait(false);
        if (Vif.Rate is { } rate)
        {
            await _xs.WriteAsync(x, be + "/rate", rate, c).ConfigureAwait(false);
        }

        await _xs.WriteAsync(x, be + "/frontend", fe, c).ConfigureAwait(false); // last: netback takes the device up when this appears
    }
}

/// <summary>Receives one frame (valid only during the call).</summary>
public delegate void FrameHandler(ReadOnlySpan<byte> frame);

/// <summary>Offered one frame (valid only during the call): true if it took it, false to be offered it again later.</summary>
public delegate bool FrameSink(ReadOnlySpan<byte> frame);
