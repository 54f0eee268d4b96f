using Disagg.Abi.Grants;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Service;
using Disagg.TestSupport;

namespace Disagg.Kernel.Control.Tests;

/// <summary>
/// Native frontends: a service domain with a grant table of its own (a test process speaking blkif or netif
/// to a backend, so the emulated CPU is not the bottleneck). Two real service channels on the real kernel:
/// the frontend grants a shared page (a ring) and copy buffer pages; the backend maps the ring, binds the
/// event channel and copies data, exactly as it would with a guest.
/// </summary>
public sealed class NativeFrontendTests : IAsyncLifetime
{
    private const int FrontendDomain = 20;
    private const int BackendDomain = 21;
    private KernelProcess _kernel = null!;
    private KernelClient _control = null!;
    private readonly Dictionary<int, string> _tokens = [];

    public async Task InitializeAsync()
    {
        _kernel = await KernelProcess.StartAsync();
        _control = await _kernel.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _control.DisposeAsync();
        await _kernel.DisposeAsync();
    }

    private async Task<ServiceChannel> OpenAsync(string name, int domid, int bufferPages, int grantFrames)
    {
        if (!_tokens.TryGetValue(domid, out var token))
        {
            token = _tokens[domid] = (await _control.CallAsync<ServiceRegistered>(new RegisterService(name, domid))).Token;
        }

        return await ServiceChannel.OpenAsync(_kernel.Socket, token, bufferPages, grantFrames);
    }

    [Fact]
    public async Task A_backend_maps_the_frontends_ring_page_and_they_signal_each_other()
    {
        await using var front = await OpenAsync("front", FrontendDomain, 4, grantFrames: 1);
        await using var back = await OpenAsync("back", BackendDomain, 4, grantFrames: 0);
        Assert.NotNull(front.Grants);
        Assert.Null(back.Grants);

        using var ring = await front.AllocSharedPageAsync();
        ring.Span[100] = 0x5a;
        front.Grants!.GrantAccess(8, BackendDomain, ring.Frame, readOnly: false);
        var port = await front.AllocUnboundAsync(BackendDomain);

        await using (var mapped = await back.MapGrantAsync(FrontendDomain, 8))
        {
            Assert.Equal(ring.Frame, mapped.Frame);
            Assert.Equal(0x5a, mapped.Span[100]);
            mapped.Span[200] = 0xa5;  // the same page: the frontend sees the backend's writes
            Assert.Equal(0xa5, ring.Span[200]);
            Assert.True(front.Grants.InUse(8));
            Assert.False(front.Grants.EndAccess(8)); // mapped: the grant cannot be revoked yet

            var local = await back.BindInterdomainAsync(FrontendDomain, port);
            Assert.True(back.Notify(local));
            Assert.True(front.WaitForEvents(TimeSpan.FromSeconds(5)));
            var ports = new int[4];
            Assert.Equal(port, ports[..front.TakePendingEvents(ports)].Single());
            Assert.True(front.Notify(port));
            Assert.True(back.WaitForEvents(TimeSpan.FromSeconds(5)));
            Assert.Equal(local, ports[..back.TakePendingEvents(ports)].Single());
        }

        Assert.False(front.Grants.InUse(8));
        Assert.True(front.Grants.EndAccess(8));
        await Assert.ThrowsAsync<KernelRequestException>(() => back.MapGrantAsync(FrontendDomain, 8)); // revoked
    }

    [Fact]
    public async Task Data_moves_by_grant_copy_between_the_frontends_buffer_and_the_backends()
    {
        await using var front = await OpenAsync("front", FrontendDomain, 8, grantFrames: 1);
        await using var back = await OpenAsync("back", BackendDomain, 8, grantFrames: 0);
        front.BufferPage(3).Fill(0x33);
        front.Grants!.GrantAccess(1, BackendDomain, 3, readOnly: true);   // a write request's data
        front.Grants.GrantAccess(2, BackendDomain, 5, readOnly: false);   // a read request's buffer
        back.BufferPage(0).Fill(0x77);

        GrantCopy[] ops =
        [
            Copy(fromGrant: (FrontendDomain, 1), toFrame: 1, len: 4096),
            new GrantCopy
            {
                Source = new GrantCopyPtr { RefOrFrame = 0, DomId = Abi.Events.DomainIds.Self, Offset = 0 },
                Dest = new GrantCopyPtr { RefOrFrame = 2, DomId = FrontendDomain, Offset = 512 },
                Len = 1024,
                Flags = GrantCopy.DestGref,
            },
            new GrantCopy
            {
                Source = new GrantCopyPtr { RefOrFrame = 0, DomId = Abi.Events.DomainIds.Self },
                Dest = new GrantCopyPtr { RefOrFrame = 1, DomId = FrontendDomain },
                Len = 8,
                Flags = GrantCopy.DestGref, // read-only grant as a destination
            },
        ];
        Assert.True(back.TrySubmitCopies(ops, out var end));
        Assert.True(back.WaitForCopies(end, TimeSpan.FromSeconds(5)));
        var first = end - (uint)ops.Length;
        Assert.Equal(0, back.CopyStatus(first));
        Assert.Equal(0, back.CopyStatus(first + 1));
        Assert.Equal((short)GrantStatus.PermissionDenied, back.CopyStatus(first + 2));
        Assert.True(back.BufferPage(1).ToArray().All(b => b == 0x33));
        var read = front.BufferPage(5);
        Assert.True(read[..512].ToArray().All(b => b == 0));
        Assert.True(read[512..1536].ToArray().All(b => b == 0x77));
        Assert.True(read[1536..].ToArray().All(b => b == 0));
    }

    [Fact]
    public async Task Hostile_grants_and_requests_are_refused_and_both_keep_serving()
    {
        await using var front = await OpenAsync("front", FrontendDomain, 4, grantFrames: 1);
        await using var back = await OpenAsync("back", BackendDomain, 4, grantFrames: 0);
        using var ring = await front.AllocSharedPageAsync();
        front.Grants!.GrantAccess(1, BackendDomain, 2, readOnly: false);          // a copy buffer page: copy only
        front.Grants.GrantAccess(2, 99, ring.Frame, readOnly: false);             // granted to someone else
        front.Grants.GrantAccess(3, BackendDomain, 0x10_0000 + 500, readOnly: false); // a shared page that does not exist
        front.Grants.GrantAccess(4, BackendDomain, ring.Frame, readOnly: true);
        await AssertRefused(() => back.MapGrantAsync(FrontendDomain, 1));
        await AssertRefused(() => back.MapGrantAsync(FrontendDomain, 2));
        await AssertRefused(() => back.MapGrantAsync(FrontendDomain, 3));
        await AssertRefused(() => back.MapGrantAsync(FrontendDomain, 4));         // writable map of a read-only grant
        await AssertRefused(() => back.MapGrantAsync(FrontendDomain, 512));       // past the one-frame table
        await AssertRefused(() => back.MapGrantAsync(BackendDomain, 1));          // itself
        await AssertRefused(() => back.AllocSharedPageAsync());                   // a backend has no grant table
        var status = await back.CopyAsync([
            new GrantCopyOp(true, FrontendDomain, 3, 0, false, 0, 0, 0, 8),          // grant names a missing frame
            new GrantCopyOp(true, FrontendDomain, 70000, 0, false, 0, 0, 0, 8),      // ref past the table
            new GrantCopyOp(true, FrontendDomain, 1, 4000, false, 0, 0, 0, 200),     // crosses the page
            new GrantCopyOp(true, FrontendDomain, 1, 0, false, 0, 0, 0, 8),          // fine
        ]);
        Assert.Equal((short)GrantStatus.BadPage, status[0]);
        Assert.Equal((short)GrantStatus.BadGntref, status[1]);
        Assert.Equal((short)GrantStatus.BadCopyArg, status[2]);
        Assert.Equal(0, status[3]);

        var tooBig = await _control.CallAsync<ServiceRegistered>(new RegisterService("greedy", 22));
        var kernel = await KernelClient.ConnectAsync(_kernel.Socket, tooBig.Token);
        await using (kernel)
        {
            var refused = Assert.IsType<ErrorReply>(await kernel.RequestAsync(new OpenServiceChannel(1, 100_000)));
            Assert.Contains("grant table", refused.Message, StringComparison.Ordinal);
        }

        await using var mapped = await back.MapGrantAsync(FrontendDomain, 4, readOnly: true); // still serving
        Assert.Equal(ring.Frame, mapped.Frame);
    }

    [Fact]
    public async Task A_frontend_that_goes_away_leaves_the_backend_and_the_kernel_serving()
    {
        await using var back = await OpenAsync("back", BackendDomain, 4, grantFrames: 0);
        var front = await OpenAsync("front", FrontendDomain, 4, grantFrames: 1);
        var ring = await front.AllocSharedPageAsync();
        front.Grants!.GrantAccess(1, BackendDomain, ring.Frame, readOnly: false);
        front.Grants.GrantAccess(2, BackendDomain, 0, readOnly: false);
        var mapped = await back.MapGrantAsync(FrontendDomain, 1);
        ring.Span[7] = 7;
        ring.Dispose();
        await front.DisposeAsync(); // the process "died" with the backend holding its ring

        // The backend's mapping is its own; the grant is gone with the frontend; copies to it are refused.
        Assert.Equal(7, mapped.Span[7]);
        await mapped.DisposeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        short[] status;
        do
        {
            status = await back.CopyAsync([new GrantCopyOp(false, 0, 0, 0, true, FrontendDomain, 2, 0, 8)]);
        }
        while (status[0] == 0 && DateTime.UtcNow < deadline); // the kernel notices the closed connection asynchronously
        Assert.Equal((short)GrantStatus.BadDomain, status[0]);

        // A restarted frontend under the same id starts with an empty table and works.
        await using var again = await OpenAsync("front", FrontendDomain, 4, grantFrames: 1);
        using var page = await again.AllocSharedPageAsync();
        again.Grants!.GrantAccess(1, BackendDomain, page.Frame, readOnly: false);
        await using var remapped = await back.MapGrantAsync(FrontendDomain, 1);
        Assert.Equal(page.Frame, remapped.Frame);
    }

    private static GrantCopy Copy((int Domain, uint Ref) fromGrant, ulong toFrame, ushort len) => new()
    {
        Source = new GrantCopyPtr { RefOrFrame = fromGrant.Ref, DomId = (ushort)fromGrant.Domain },
        Dest = new GrantCopyPtr { RefOrFrame = toFrame, DomId = Abi.Events.DomainIds.Self },
        Len = len,
        Flags = GrantCopy.SourceGref,
    };

    private static async Task AssertRefused(Func<Task> request) =>
        await Assert.ThrowsAsync<KernelRequestException>(request);
}
