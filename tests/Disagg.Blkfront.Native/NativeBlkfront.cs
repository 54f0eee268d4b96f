using System.Globalization;
using System.Runtime.InteropServices;
using Disagg.Abi.Io;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Ring;
using Disagg.Service;
using Disagg.Xenbus;

namespace Disagg.Blkfront.Native;

/// <summary>
/// A blkif frontend as a process (ARCHITECTURE 6b): a service domain with its own grant table whose ring
/// lives in a shared page (grant <see cref="RingRef"/>) and whose data pages are its copy buffer pages (page i
/// is grant <see cref="Gref"/>(i)). <see cref="AttachAsync"/> plays the toolstack (writes the backend and
/// frontend directories) and then the frontend's half of the xenbus dance. Requests are built and pushed by
/// the caller; one thread at a time.
/// </summary>
public sealed class NativeBlkfront : IAsyncDisposable
{
    public const uint RingRef = 0;
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private readonly ServiceChannel _channel;
    private readonly SharedPageRange _ringPages;
    private readonly XenstoreClient _xs;
    private readonly int[] _ports = new int[16];

    private NativeBlkfront(ServiceChannel channel, SharedPageRange ringPages, uint[] ringRefs, XenstoreClient xs, int port, int backendDomain, int deviceId)
    {
        _channel = channel;
        _ringPages = ringPages;
        RingRefs = ringRefs;
        _xs = xs;
        Port = port;
        BackendDomain = backendDomain;
        DeviceId = deviceId;
        unsafe
        {
            Ring = new FrontRing<BlkifRequest, BlkifResponse>($"blkfront {channel.DomainId}/{deviceId}", ringPages.Pointer, ringPages.Length);
        }
    }

    /// <summary>The grants of the ring's pages (one unless a ring-page-order was asked for).</summary>
    public uint[] RingRefs { get; }

    public int DomainId => _channel.DomainId;

    public int BackendDomain { get; }

    public int DeviceId { get; }

    public int Port { get; }

    public FrontRing<BlkifRequest, BlkifResponse> Ring { get; private set; }

    public int Pages => _channel.BufferPages;

    public long Sectors { get; private set; }

    public int MaxIndirectSegments { get; private set; }

    public string BackendPath => XenbusPaths.Backend(BackendDomain, "vbd", DomainId, DeviceId);

    public string FrontendPath => XenbusPaths.Frontend(DomainId, "vbd", DeviceId);

    /// <summary>
    /// Registers domain <paramref name="domainId"/> as a service (through the privileged <paramref name="control"/>),
    /// opens its channel with a grant table, writes the device directories and connects to the backend. A
    /// <paramref name="ringPageOrder"/> above 0 asks for a ring of 2^order pages (ring-ref0..N-1): 32 requests per page.
    /// </summary>
    public static async Task<NativeBlkfront> AttachAsync(
        KernelClient control, string kernelSocket, XenstoreClient xs, int domainId, int backendDomain, int deviceId, BlkfrontDisk disk, int pages = 128, TimeSpan? timeout = null, int ringPageOrder = 0)
    {
        var token = (await control.CallAsync<ServiceRegistered>(new RegisterService($"blkfront-{domainId}", domainId)).ConfigureAwait(false)).Token;
        var channel = await ServiceChannel.OpenAsync(kernelSocket, token, pages, grantFrames: 1).ConfigureAwait(false);
        var ringPages = await channel.AllocSharedPagesAsync(1 << ringPageOrder).ConfigureAwait(false);
        var grants = channel.Grants!;
        var ringRefs = new uint[ringPages.Frames.Count];
        for (var i = 0; i < ringRefs.Length; i++)
        {
            // Page 0 keeps ref 0; further ring pages take the refs after the data pages'.
            ringRefs[i] = i == 0 ? RingRef : Gref(pages) + (uint)i - 1;
            grants.GrantAccess(ringRefs[i], backendDomain, ringPages.Frames[i], readOnly: false);
        }

        for (var i = 0; i < pages; i++)
        {
            grants.GrantAccess(Gref(i), backendDomain, (ulong)i, readOnly: false);
        }

        var port = await channel.AllocUnboundAsync(backendDomain).ConfigureAwait(false);
        var front = new NativeBlkfront(channel, ringPages, ringRefs, xs, port, backendDomain, deviceId);
        try
        {
            await front.WriteDirectoriesAsync(disk).ConfigureAwait(false);
            await front.ConnectAsync(timeout ?? DefaultTimeout).ConfigureAwait(false);
            return front;
        }
        catch
        {
            await front.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The grant reference of data page <paramref name="page"/>.</summary>
    public static uint Gref(int page) => 1 + (uint)page;

    public Span<byte> Page(int page) => _channel.BufferPage(page);

    /// <summary>A direct request; segments name data pages and sectors within them.</summary>
    public static unsafe BlkifRequest Request(BlkifOperation op, ulong id, long sector, params (int Page, int First, int Last)[] segments)
    {
        var r = new BlkifRequest { Operation = (byte)op, NrSegments = (byte)segments.Length, Id = id, SectorNumber = (ulong)sector };
        var segs = MemoryMarshal.Cast<byte, BlkifSegment>(new Span<byte>(r.Segments, BlkifRequest.MaxSegments * 8));
        for (var i = 0; i < segments.Length && i < BlkifRequest.MaxSegments; i++)
        {
            segs[i] = new BlkifSegment { Gref = Gref(segments[i].Page), FirstSect = (byte)segments[i].First, LastSect = (byte)segments[i].Last };
        }

        return r;
    }

    /// <summary>An indirect request whose descriptors are written into data page <paramref name="descriptorPage"/>.</summary>
    public unsafe BlkifRequest Indirect(BlkifOperation op, ulong id, long sector, int descriptorPage, params (int Page, int First, int Last)[] segments)
    {
        var d = MemoryMarshal.Cast<byte, BlkifSegment>(Page(descriptorPage));
        for (var i = 0; i < segments.Length; i++)
        {
            d[i] = new BlkifSegment { Gref = Gref(segments[i].Page), FirstSect = (byte)segments[i].First, LastSect = (byte)segments[i].Last };
        }

        var r = new BlkifRequestIndirect { Operation = (byte)BlkifOperation.Indirect, IndirectOp = (byte)op, NrSegments = (ushort)segments.Length, Id = id, SectorNumber = (ulong)sector };
        r.IndirectGrefs[0] = Gref(descriptorPage);
        return MemoryMarshal.Cast<BlkifRequestIndirect, BlkifRequest>(new Span<BlkifRequestIndirect>(ref r))[0];
    }

    /// <summary>RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, and the event if the backend asked for one.</summary>
    public void Push()
    {
        if (Ring.PushRequests() && !_channel.Notify(Port))
        {
            _channel.NotifyAsync(Port).GetAwaiter().GetResult();
        }
    }

    /// <summary>Returns at once if responses are there; else sleeps until the backend's event or the timeout.</summary>
    public void WaitForResponses(TimeSpan timeout)
    {
        if (Ring.FinalCheckForResponses())
        {
            return;
        }

        _channel.WaitForEvents(timeout);
        _channel.TakePendingEvents(_ports);
    }

    /// <summary>One request, its status (the response must carry its id and operation).</summary>
    public short Do(BlkifRequest request, TimeSpan? timeout = null)
    {
        Ring.NextRequest() = request;
        Push();
        var deadline = Environment.TickCount64 + (long)(timeout ?? DefaultTimeout).TotalMilliseconds;
        BlkifResponse rsp;
        while (!Ring.TryTakeResponse(out rsp))
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                throw new TimeoutException($"blkfront {DomainId}/{DeviceId}: no response to request {request.Id} (ring fault {Ring.Fault})");
            }

            WaitForResponses(TimeSpan.FromMilliseconds(Math.Min(left, 200)));
        }

        if (rsp.Id != request.Id || rsp.Operation != request.Operation)
        {
            throw new InvalidOperationException($"blkfront {DomainId}/{DeviceId}: response for {rsp.Id}/{rsp.Operation} to request {request.Id}/{request.Operation}");
        }

        return rsp.Status;
    }

    /// <summary>A hostile frontend: moves the shared req_prod <paramref name="ahead"/> past what was produced, and notifies.</summary>
    public unsafe void CorruptRequestProducer(uint ahead)
    {
        var header = (SharedRingHeader*)_ringPages.Pointer;
        Volatile.Write(ref header->ReqProd, header->ReqProd + ahead);
        _channel.Notify(Port);
    }

    /// <summary>
    /// The §6 reconnect after the backend came back in InitWait: the ring is initialised afresh (same page, same
    /// port), <paramref name="shadow"/> (every request without a response) is queued again, and the frontend goes
    /// Initialised; returns once the backend is Connected. The caller then pushes.
    /// </summary>
    public async Task ReconnectAsync(IEnumerable<BlkifRequest> shadow, TimeSpan timeout)
    {
        unsafe
        {
            Ring = new FrontRing<BlkifRequest, BlkifResponse>($"blkfront {DomainId}/{DeviceId}", _ringPages.Pointer, _ringPages.Length);
        }

        foreach (var r in shadow)
        {
            Ring.NextRequest() = r;
        }

        await _xs.WriteAsync(XenstoreClient.NoTransaction, FrontendPath + "/state", "3", CancellationToken.None).ConfigureAwait(false);
        await WaitForBackendAsync(XenbusState.Connected, timeout).ConfigureAwait(false);
        await _xs.WriteAsync(XenstoreClient.NoTransaction, FrontendPath + "/state", "4", CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Reads the backend's state node.</summary>
    public async Task<XenbusState> BackendStateAsync() =>
        XenbusStates.Parse(await _xs.ReadAsync(XenstoreClient.NoTransaction, BackendPath + "/state", CancellationToken.None).ConfigureAwait(false));

    /// <summary>Waits until the backend's state is <paramref name="state"/>.</summary>
    public async Task WaitForBackendAsync(XenbusState state, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        XenbusState now;
        while ((now = await BackendStateAsync().ConfigureAwait(false)) != state)
        {
            if (DateTime.UtcNow > deadline)
            {
                var error = await _xs.ReadAsync(XenstoreClient.NoTransaction, BackendPath + "/error", CancellationToken.None).ConfigureAwait(false);
                throw new TimeoutException($"blkfront {DomainId}/{DeviceId}: backend state {now}, not {state}, after {timeout.TotalSeconds} s (error: {error})");
            }

            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    /// <summary>As the toolstack's detach: the directories go (the backend forgets the device), then the channel.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _xs.RmAsync(XenstoreClient.NoTransaction, BackendPath, CancellationToken.None).ConfigureAwait(false);
            await _xs.RmAsync(XenstoreClient.NoTransaction, FrontendPath, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or XenstoreException)
        {
            // xenstored already gone (test teardown order)
        }

        _ringPages.Dispose();
        await _channel.DisposeAsync().ConfigureAwait(false);
    }

    private async Task WriteDirectoriesAsync(BlkfrontDisk disk)
    {
        const uint tx = XenstoreClient.NoTransaction;
        var c = CancellationToken.None;
        string N(int n) => n.ToString(CultureInfo.InvariantCulture);
        await _xs.WriteAsync(tx, FrontendPath + "/backend", BackendPath, c).ConfigureAwait(false);
        await _xs.WriteAsync(tx, FrontendPath + "/backend-id", N(BackendDomain), c).ConfigureAwait(false);
        await _xs.WriteAsync(tx, FrontendPath + "/state", "1", c).ConfigureAwait(false);
        // The backend directory in one transaction, as xl writes it: blkback sees it whole.
        while (true)
        {
            var t = await _xs.TransactionStartAsync(c).ConfigureAwait(false);
            await _xs.WriteAsync(t, BackendPath + "/params", disk.Image, c).ConfigureAwait(false);
            await _xs.WriteAsync(t, BackendPath + "/format", disk.Format, c).ConfigureAwait(false);
            await _xs.WriteAsync(t, BackendPath + "/mode", disk.ReadOnly ? "r" : "w", c).ConfigureAwait(false);
            await _xs.WriteAsync(t, BackendPath + "/dev", "xvd" + (char)('a' + (DeviceId % 26)), c).ConfigureAwait(false);
            await _xs.WriteAsync(t, BackendPath + "/frontend-id", N(DomainId), c).ConfigureAwait(false);
            await _xs.WriteAsync(t, BackendPath + "/state", "1", c).ConfigureAwait(false);
            await _xs.WriteAsync(t, BackendPath + "/frontend", FrontendPath, c).ConfigureAwait(false);
            if (await _xs.TransactionEndAsync(t, commit: true, c).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private async Task ConnectAsync(TimeSpan timeout)
    {
        const uint tx = XenstoreClient.NoTransaction;
        var c = CancellationToken.None;
        await WaitForBackendAsync(XenbusState.InitWait, timeout).ConfigureAwait(false);
        Sectors = long.Parse(await _xs.ReadAsync(tx, BackendPath + "/sectors", c).ConfigureAwait(false) ?? "0", CultureInfo.InvariantCulture);
        MaxIndirectSegments = int.Parse(await _xs.ReadAsync(tx, BackendPath + "/feature-max-indirect-segments", c).ConfigureAwait(false) ?? "0", CultureInfo.InvariantCulture);
        if (RingRefs.Length == 1)
        {
            await _xs.WriteAsync(tx, FrontendPath + "/ring-ref", RingRef.ToString(CultureInfo.InvariantCulture), c).ConfigureAwait(false);
        }
        else
        {
            await _xs.WriteAsync(tx, FrontendPath + "/ring-page-order", System.Numerics.BitOperations.Log2((uint)RingRefs.Length).ToString(CultureInfo.InvariantCulture), c).ConfigureAwait(false);
            for (var i = 0; i < RingRefs.Length; i++)
            {
                await _xs.WriteAsync(tx, FrontendPath + $"/ring-ref{i}", RingRefs[i].ToString(CultureInfo.InvariantCulture), c).ConfigureAwait(false);
            }
        }

        await _xs.WriteAsync(tx, FrontendPath + "/event-channel", Port.ToString(CultureInfo.InvariantCulture), c).ConfigureAwait(false);
        await _xs.WriteAsync(tx, FrontendPath + "/protocol", "x86_64-abi", c).ConfigureAwait(false);
        await _xs.WriteAsync(tx, FrontendPath + "/state", "3", c).ConfigureAwait(false);
        await WaitForBackendAsync(XenbusState.Connected, timeout).ConfigureAwait(false);
        await _xs.WriteAsync(tx, FrontendPath + "/state", "4", c).ConfigureAwait(false);
    }
}
