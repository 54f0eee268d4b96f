using System.Buffers.Binary;
using Disagg.Abi.Grants;
using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Service;
using Disagg.TestSupport;

namespace Disagg.Kernel.Control.Tests;

/// <summary>
/// A service domain's channel, end to end: the real kernel process, a real guest (guests/apps/ring-echo.c)
/// and this test process as the service, through shared/Service. The guest's xenstore page is granted to the
/// xenstore domain and its event channel offered to it at creation, so a service registered as that domain
/// can map the page, bind the channel and talk to the guest — and nothing else.
/// </summary>
public sealed class ServiceChannelTests : IAsyncLifetime
{
    private const int XenstoreDomain = 1;
    private const uint XenstoreRef = 1;   // Xen's GNTTAB_RESERVED_XENSTORE
    private const uint ConsoleRef = 0;
    private KernelProcess _kernel = null!;
    private KernelClient _control = null!;
    private string _token = null!;

    public async Task InitializeAsync()
    {
        _kernel = await KernelProcess.StartAsync();
        _control = await _kernel.ConnectAsync();
        _token = (await _control.CallAsync<ServiceRegistered>(new RegisterService("xenstored", XenstoreDomain))).Token;
    }

    public async Task DisposeAsync()
    {
        await _control.DisposeAsync();
        await _kernel.DisposeAsync();
    }

    private async Task<DomainCreated> CreateAsync(string name, string? elf = null, GuestIsa isa = GuestIsa.Rv64)
    {
        var created = await _control.CallAsync<DomainCreated>(
            new CreateDomain(name, isa, 1, 1, 4096, 4096, 256, 0, [ulong.MaxValue], 0, XenstoreDomain));
        if (elf != null)
        {
            var image = await File.ReadAllBytesAsync(Path.Combine(RepoPaths.Guests, elf));
            await _control.CallAsync<OkReply>(new LoadKernel(created.DomainId, image, null, ""));
        }

        return created;
    }

    [Fact]
    public async Task GuestAndServiceTalkThroughAMappedPageAndEventChannels()
    {
        var guest = await CreateAsync("echo", "rv64/ring-echo.elf");
        await using var service = await ServiceChannel.OpenAsync(_kernel.Socket, _token);
        using var reactor = new Disagg.Interop.EpollReactor("test-service");
        Assert.Equal(XenstoreDomain, service.DomainId);
        await using var page = await service.MapGrantAsync(guest.DomainId, XenstoreRef);
        Assert.Equal(guest.XenstoreFrame, page.Frame);
        var port = await service.BindInterdomainAsync(guest.DomainId, guest.XenstorePort);
        var ports = new int[8];
        service.TakePendingEvents(ports); // binding marks the new port pending once, as Xen does
        await _control.CallAsync<OkReply>(new DomainCommand(guest.DomainId, DomainOperation.Unpause));
        for (var round = 0u; round < 3; round++)
        {
            var value = 40 + (round * 10);
            BinaryPrimitives.WriteUInt32LittleEndian(page.Span, value);
            if (round == 1)
            {
                await service.NotifyAsync(port);   // through the socket
            }
            else
            {
                Assert.True(service.Notify(port)); // through the shared send ring
            }

            var answered = false;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (!answered && !timeout.IsCancellationRequested)
            {
                if (round == 2)
                {
                    await service.WaitForEventsAsync(reactor, timeout.Token); // the async form, on a reactor
                }
                else
                {
                    service.WaitForEvents(TimeSpan.FromMilliseconds(200));
                }

                var n = service.TakePendingEvents(ports);
                answered = ports.AsSpan(0, n).Contains(port);
            }

            Assert.True(answered, $"round {round}: no event back from the guest");
            Assert.Equal(value + 1, BinaryPrimitives.ReadUInt32LittleEndian(page.ReadOnlySpan[4..]));
        }

        var log = await ReadGuestConsoleAsync(guest.DomainId, "round 2");
        Assert.Contains("ring-echo: round 2 got 60 answered 61 (send 0)", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GrantCopyMovesBytesBetweenTheCopyBufferAndAGuestGrant()
    {
        var guest = await CreateAsync("copy");
        await using var service = await ServiceChannel.OpenAsync(_kernel.Socket, _token, bufferPages: 4);
        await using var page = await service.MapGrantAsync(guest.DomainId, XenstoreRef);
        "written by the service"u8.CopyTo(service.BufferPage(2)[100..]);
        var status = await service.CopyAsync([
            new GrantCopyOp(false, 0, 2, 100, true, guest.DomainId, XenstoreRef, 8, 22),   // buffer -> guest
            new GrantCopyOp(true, guest.DomainId, XenstoreRef, 8, false, 0, 3, 0, 22),     // guest -> buffer
        ]);
        Assert.Equal([0, 0], status);
        Assert.Equal("written by the service"u8.ToArray(), page.ReadOnlySpan.Slice(8, 22).ToArray());
        Assert.Equal("written by the service"u8.ToArray(), service.BufferPage(3)[..22].ToArray());
    }

    [Fact]
    public async Task GrantCopiesThroughTheSharedCopyRing()
    {
        var guest = await CreateAsync("copy-ring");
        await using var service = await ServiceChannel.OpenAsync(_kernel.Socket, _token, bufferPages: 4);
        await using var page = await service.MapGrantAsync(guest.DomainId, XenstoreRef);
        "through the ring"u8.CopyTo(service.BufferPage(1)[10..]);
        static GrantCopyPtr Buffer(ulong frame, ushort offset) => new() { RefOrFrame = frame, DomId = Abi.Events.DomainIds.Self, Offset = offset };
        static GrantCopyPtr Grant(int domain, uint gref, ushort offset) => new() { RefOrFrame = gref, DomId = (ushort)domain, Offset = offset };
        GrantCopy[] ops =
        [
            new() { Source = Buffer(1, 10), Dest = Grant(guest.DomainId, XenstoreRef, 100), Len = 16, Flags = GrantCopy.DestGref },
            new() { Source = Grant(guest.DomainId, XenstoreRef, 100), Dest = Buffer(2, 0), Len = 16, Flags = GrantCopy.SourceGref },
            new() { Source = Buffer(1, 4000), Dest = Grant(guest.DomainId, XenstoreRef, 0), Len = 200, Flags = GrantCopy.DestGref }, // crosses a page
            new() { Source = Buffer(1, 0), Dest = Grant(guest.DomainId, ConsoleRef, 0), Len = 8, Flags = GrantCopy.DestGref },       // not ours
        ];
        var total = 0u;
        for (var round = 0; round < 40; round++) // 160 copies: the 96-entry ring wraps
        {
            Assert.True(service.TrySubmitCopies(ops, out var end));
            Assert.True(service.WaitForCopies(end, TimeSpan.FromSeconds(20)), $"round {round}: copies not done");
            Assert.Equal(0, service.CopyStatus(end - 4));
            Assert.Equal(0, service.CopyStatus(end - 3));
            Assert.Equal((short)GrantStatus.BadCopyArg, service.CopyStatus(end - 2));
            Assert.True(service.CopyStatus(end - 1) < 0);
            total = end;
        }

        Assert.Equal(160u, total);
        Assert.Equal("through the ring"u8.ToArray(), page.ReadOnlySpan.Slice(100, 16).ToArray());
        Assert.Equal("through the ring"u8.ToArray(), service.BufferPage(2)[..16].ToArray());
        Assert.False(service.TrySubmitCopies(new GrantCopy[97], out _)); // more than the ring holds
    }

    [Fact]
    public async Task HostileRequestsGetErrorsAndTheChannelKeepsServing()
    {
        var guest = await CreateAsync("victim");
        var other = await CreateAsync("other");
        await using var service = await ServiceChannel.OpenAsync(_kernel.Socket, _token, bufferPages: 2);

        // The console page is granted to domain 0, not to us; refs past the table and missing domains fail.
        await AssertKernelError(() => service.MapGrantAsync(guest.DomainId, ConsoleRef));
        await AssertKernelError(() => service.MapGrantAsync(guest.DomainId, 1_000_000));
        await AssertKernelError(() => service.MapGrantAsync(4242, XenstoreRef));
        // Ports: only one offered to us may be bound; wild port numbers are refused.
        await AssertKernelError(() => service.BindInterdomainAsync(guest.DomainId, guest.ConsolePort));
        await AssertKernelError(() => service.BindInterdomainAsync(guest.DomainId, 100_000));
        await AssertKernelError(() => service.NotifyAsync(-5));
        await AssertKernelError(() => service.CloseAsync(77));
        // Grant copies: every bad argument gets its own status, the good one in the batch still happens.
        var status = await service.CopyAsync([
            new GrantCopyOp(false, 0, 99, 0, true, guest.DomainId, XenstoreRef, 0, 8),        // buffer page past the end
            new GrantCopyOp(false, 0, 0, 4000, true, guest.DomainId, XenstoreRef, 0, 200),    // crosses the page
            new GrantCopyOp(false, 0, 0, 0, true, guest.DomainId, ConsoleRef, 0, 8),          // not granted to us
            new GrantCopyOp(false, 0, 0, 0, true, 70000, XenstoreRef, 0, 8),                  // no such domain id
            new GrantCopyOp(false, 0, 0, 0, true, guest.DomainId, 999_999, 0, 8),             // ref past the table
            new GrantCopyOp(false, 0, 0, 0, true, guest.DomainId, XenstoreRef, 0, 8),         // fine
        ]);
        Assert.Equal((short)GrantStatus.BadPage, status[0]);
        Assert.Equal((short)GrantStatus.BadCopyArg, status[1]);
        Assert.True(status[2] < 0);
        Assert.True(status[3] < 0);
        Assert.Equal((short)GrantStatus.BadGntref, status[4]);
        Assert.Equal(0, status[5]);
        var tooMany = Enumerable.Repeat(new GrantCopyOp(false, 0, 0, 0, true, guest.DomainId, XenstoreRef, 0, 1), 5000).ToArray();
        var big = await Assert.ThrowsAsync<KernelRequestException>(() => service.CopyAsync(tooMany));
        Assert.Contains("at most", big.Message, StringComparison.Ordinal);
        // Still serving: a good map of the other guest works.
        await using var page = await service.MapGrantAsync(other.DomainId, XenstoreRef);
        Assert.Equal(other.XenstoreFrame, page.Frame);
    }

    [Fact]
    public async Task ReadOnlyMapsCannotBeWrittenAndGuestControlStaysWithTheControlDomain()
    {
        var guest = await CreateAsync("ro");
        await using var service = await ServiceChannel.OpenAsync(_kernel.Socket, _token);
        await using var page = await service.MapGrantAsync(guest.DomainId, XenstoreRef, readOnly: true);
        Assert.Throws<InvalidOperationException>(() => page.Span[0] = 1);
        // A service may not manage domains or register services.
        var denied = Assert.IsType<ErrorReply>(await service.Kernel.RequestAsync(new DomainCommand(guest.DomainId, DomainOperation.Destroy)));
        Assert.Equal((int)XenErrno.EPERM, denied.Errno);
        // A second connection of the same service takes the channel over (a restarted service reconnects
        // before its old connection is noticed gone); the old one is told so and holds nothing any more.
        await using var second = await ServiceChannel.OpenAsync(_kernel.Socket, _token);
        var stale = await Assert.ThrowsAsync<KernelRequestException>(() => service.BindInterdomainAsync(guest.DomainId, guest.XenstorePort));
        Assert.Contains("took over", stale.Message, StringComparison.Ordinal);
        Assert.True(await second.BindInterdomainAsync(guest.DomainId, guest.XenstorePort) > 0);
    }

    [Fact]
    public async Task ARestartedServiceRebindsTheSamePortAndRemapsTheSamePage()
    {
        var guest = await CreateAsync("restart");
        await using (var first = await ServiceChannel.OpenAsync(_kernel.Socket, _token))
        {
            await using var page = await first.MapGrantAsync(guest.DomainId, XenstoreRef);
            "kept"u8.CopyTo(page.Span);
            await first.BindInterdomainAsync(guest.DomainId, guest.XenstorePort);
        }

        // The connection is gone (as when the service is killed): its port closed, the guest's end is
        // unbound again and offered to the same domain, and the page still holds what was written.
        await using var second = await ServiceChannel.OpenAsync(_kernel.Socket, _token);
        var port = await second.BindInterdomainAsync(guest.DomainId, guest.XenstorePort);
        Assert.True(port > 0);
        await using var again = await second.MapGrantAsync(guest.DomainId, XenstoreRef);
        Assert.Equal("kept"u8.ToArray(), again.ReadOnlySpan[..4].ToArray());
    }

    [Fact]
    public async Task DestroyingAGuestAServiceStillMapsLeavesTheKernelAndTheServiceWell()
    {
        var guest = await CreateAsync("doomed");
        var survivor = await CreateAsync("survivor");
        await using var service = await ServiceChannel.OpenAsync(_kernel.Socket, _token);
        var page = await service.MapGrantAsync(guest.DomainId, XenstoreRef);
        await service.BindInterdomainAsync(guest.DomainId, guest.XenstorePort);
        "still mine"u8.CopyTo(page.Span);
        await _control.CallAsync<OkReply>(new DomainCommand(guest.DomainId, DomainOperation.Destroy));
        // The service's own mapping stays readable; unmapping the dead grant is harmless; the kernel lives.
        Assert.Equal("still mine"u8.ToArray(), page.ReadOnlySpan[..10].ToArray());
        await page.DisposeAsync();
        Assert.False(_kernel.HasExited);
        await AssertKernelError(() => service.MapGrantAsync(guest.DomainId, XenstoreRef));
        await using var other = await service.MapGrantAsync(survivor.DomainId, XenstoreRef);
        Assert.True(service.Notify(12345)); // a port we do not have: dropped by the kernel, nothing breaks
        var list = await _control.CallAsync<DomainList>(new ListDomains());
        Assert.DoesNotContain(list.Domains, d => d.DomainId == guest.DomainId);
    }

    [Fact]
    public async Task TheControlDomainReadsAGuestsSbiConsole()
    {
        var guest = await CreateAsync("sbi-console", "rv64/hello.elf");
        await _control.CallAsync<OkReply>(new DomainCommand(guest.DomainId, DomainOperation.Unpause));
        var text = await ReadGuestConsoleAsync(guest.DomainId, "Hello from a Disagg guest");
        Assert.Contains("Hello from a Disagg guest (rv64, hart 0)", text, StringComparison.Ordinal);
        var missing = Assert.IsType<ErrorReply>(await _control.RequestAsync(new ReadConsole(4242, 0, 10)));
        Assert.Equal((int)XenErrno.ESRCH, missing.Errno);
        await using var service = await ServiceChannel.OpenAsync(_kernel.Socket, _token);
        Assert.IsType<ErrorReply>(await service.Kernel.RequestAsync(new ReadConsole(guest.DomainId, 0, 10)));
    }

    [Theory]
    [InlineData("rv64")]
    [InlineData("rv32")]
    public async Task KeystrokesReachAGuestReadingTheSbiConsole(string isa)
    {
        var guest = await CreateAsync("sbi-echo-" + isa, isa + "/sbi-echo.elf", isa == "rv32" ? GuestIsa.Rv32 : GuestIsa.Rv64);
        await _control.CallAsync<OkReply>(new DomainCommand(guest.DomainId, DomainOperation.Unpause));
        await ReadGuestConsoleAsync(guest.DomainId, "sbi-echo ready");
        // Line 1 is read by legacy getchar, line 2 by DBCN read; "." ends the guest.
        var keys = "first line\nsecond\n.\n"u8.ToArray();
        var accepted = await _control.CallAsync<ConsoleInputAccepted>(new WriteConsoleInput(guest.DomainId, keys));
        Assert.Equal(keys.Length, accepted.Bytes);
        var text = await ReadGuestConsoleAsync(guest.DomainId, "sbi-echo done");
        Assert.Contains("echo: FIRST LINE\n", text, StringComparison.Ordinal);
        Assert.Contains("echo: SECOND\n", text, StringComparison.Ordinal);
        Assert.Contains("sbi-echo done", text, StringComparison.Ordinal);

        // The queue is bounded and says how much it took; no such domain is an error; services may not type.
        var flood = await _control.CallAsync<ConsoleInputAccepted>(new WriteConsoleInput(guest.DomainId, new byte[10_000]));
        Assert.Equal(4096, flood.Bytes);
        var missing = Assert.IsType<ErrorReply>(await _control.RequestAsync(new WriteConsoleInput(4242, [1])));
        Assert.Equal((int)XenErrno.ESRCH, missing.Errno);
        await using var service = await ServiceChannel.OpenAsync(_kernel.Socket, _token);
        Assert.IsType<ErrorReply>(await service.Kernel.RequestAsync(new WriteConsoleInput(guest.DomainId, [1])));
    }

    private async Task<string> ReadGuestConsoleAsync(int domainId, string until)
    {
        var text = "";
        long offset = 0;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!text.Contains(until, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            var chunk = await _control.CallAsync<ConsoleChunk>(new ReadConsole(domainId, offset, 4096));
            text += System.Text.Encoding.UTF8.GetString(chunk.Text);
            offset = chunk.NextOffset;
            await Task.Delay(20);
        }

        return text;
    }

    private static async Task AssertKernelError(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<KernelRequestException>(call);
        Assert.False(string.IsNullOrEmpty(e.Message));
    }
}
