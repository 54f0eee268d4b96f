using Disagg.TestSupport;
using System.Net.Sockets;
using System.Text;
using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Kernel.Core.Tests;
using Disagg.Kernel.Cpu.Tests;

namespace Disagg.Kernel.Control.Tests;

/// <summary>The kernel as a real process, driven as the toolstack will drive it.</summary>
public sealed partial class ControlSocketTests : IAsyncLifetime
{
    private KernelProcess _kernel = null!;
    private KernelClient _control = null!;

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

    private static CreateDomain Spec(string name, long memoryKiB = 1024, GuestIsa isa = GuestIsa.Rv64) =>
        new(name, isa, 1, 1, memoryKiB, memoryKiB, 256, 0, [ulong.MaxValue], 0, 0);

    private static byte[] Elf(GuestProgram program, bool is64 = true) => ElfWriter.Build([.. program.Build().Select(s => new ElfSegment(s.PhysicalAddress, s.Data, s.MemorySize))], GuestProgram.CodeBase, is64);

    private async Task<int> BootAsync(GuestProgram program, string name, GuestIsa isa = GuestIsa.Rv64)
    {
        var created = await _control.CallAsync<DomainCreated>(Spec(name, isa: isa));
        await _control.CallAsync<OkReply>(new LoadKernel(created.DomainId, Elf(program, isa == GuestIsa.Rv64), null, "test"));
        await _control.CallAsync<OkReply>(new DomainCommand(created.DomainId, DomainOperation.Unpause));
        return created.DomainId;
    }

    private async Task<string> DmesgAsync()
    {
        var chunk = await _control.CallAsync<MessageLogChunk>(new ReadMessageLog(0, 1 << 20));
        return Encoding.UTF8.GetString(chunk.Text);
    }

    private async Task<DomainSummary?> FindAsync(int id) =>
        (await _control.CallAsync<DomainList>(new ListDomains())).Domains.SingleOrDefault(d => d.DomainId == id);

    [Theory]
    [InlineData(GuestIsa.Rv64)]
    [InlineData(GuestIsa.Rv32)]
    public async Task APvGuestBootsAndPrintsAndItsShutdownIsPushedAsAnEvent(GuestIsa isa)
    {
        await _control.CallAsync<OkReply>(new Subscribe());
        var id = await BootAsync(new GuestProgram().Print("hello through the control socket\n").Shutdown(), "hello", isa);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        DomainEvent e;
        do
        {
            e = await _control.Events.ReadAsync(timeout.Token);
        }
        while (e.DomainId != id || e.State != "s");

        Assert.Equal((int)ShutdownReason.Poweroff, e.ShutdownReason);
        Assert.Contains($"(d{id}) hello through the control socket", await DmesgAsync(), StringComparison.Ordinal);
        Assert.Equal("s", (await FindAsync(id))!.State);
    }

    [Fact]
    public async Task PauseAndUnpauseShowInTheListAndFreezeCpuTime()
    {
        var id = await BootAsync(new GuestProgram().Emit(Asm.Addi(5, 5, 1)).JumpBack(1), "spin");
        Assert.True(await Eventually.HoldsAsync(async () => (await FindAsync(id))!.CpuTimeNs > 50_000_000));
        await _control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Pause));
        var paused = await FindAsync(id);
        Assert.Equal("p", paused!.State);
        await Task.Delay(200);
        var later = await FindAsync(id);
        Assert.InRange(later!.CpuTimeNs - paused.CpuTimeNs, 0, 20_000_000); // at most the slice it was in
        await _control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Unpause));
        Assert.True(await Eventually.HoldsAsync(async () => (await FindAsync(id))!.CpuTimeNs > later.CpuTimeNs + 50_000_000));
        Assert.Equal("r", (await FindAsync(id))!.State);
    }

    [Fact]
    public async Task DestroyGivesTheMemoryBackAndCreationPastTheBudgetNamesTheNumbers()
    {
        var before = await _control.CallAsync<HostInfo>(new GetHostInfo());
        var id = (await _control.CallAsync<DomainCreated>(Spec("big", memoryKiB: 128 * 1024))).DomainId;
        var during = await _control.CallAsync<HostInfo>(new GetHostInfo());
        Assert.True(during.FreeMemoryKiB <= before.FreeMemoryKiB - (128 * 1024));
        var refused = await _control.RequestAsync(Spec("too-big", memoryKiB: 200 * 1024));
        var error = Assert.IsType<ErrorReply>(refused);
        Assert.Equal((int)XenErrno.ENOMEM, error.Errno);
        Assert.Contains("domain 'too-big': needs 200 MiB but the host has", error.Message, StringComparison.Ordinal);
        await _control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Destroy));
        var after = await _control.CallAsync<HostInfo>(new GetHostInfo());
        Assert.Equal(before.FreeMemoryKiB, after.FreeMemoryKiB);
        Assert.Null(await FindAsync(id));
    }

    [Fact]
    public async Task BadKernelsAndBadRequestsGetErrorsThatNameTheDomain()
    {
        var id = (await _control.CallAsync<DomainCreated>(Spec("picky"))).DomainId;
        var garbage = Assert.IsType<ErrorReply>(await _control.RequestAsync(new LoadKernel(id, Encoding.ASCII.GetBytes("not an elf at all"), null, "")));
        Assert.Contains($"domain {id}", garbage.Message, StringComparison.Ordinal);
        var wrongWidth = Assert.IsType<ErrorReply>(await _control.RequestAsync(new LoadKernel(id, Elf(new GuestProgram().Shutdown(), is64: false), null, "")));
        Assert.Contains("RV32 kernel cannot boot in an RV64 domain", wrongWidth.Message, StringComparison.Ordinal);
        Assert.Equal((int)XenErrno.ESRCH, Assert.IsType<ErrorReply>(await _control.RequestAsync(new DomainCommand(4242, DomainOperation.Pause))).Errno);
        Assert.Equal((int)XenErrno.EEXIST, Assert.IsType<ErrorReply>(await _control.RequestAsync(Spec("picky"))).Errno);
        Assert.Equal((int)XenErrno.EINVAL, Assert.IsType<ErrorReply>(await _control.RequestAsync(new SetSchedCredit(id, 0, 0))).Errno);
    }

    [Fact]
    public async Task StrangersAndServicesCannotManageDomains()
    {
        await Assert.ThrowsAsync<KernelRequestException>(() => _kernel.ConnectAsync("not-the-token"));
        var reg = await _control.CallAsync<ServiceRegistered>(new RegisterService("netback", 2));
        await using var service = await _kernel.ConnectAsync(reg.Token);
        Assert.Equal(2, service.Identity!.DomainId);
        Assert.False(service.Identity.Privileged);
        var denied = Assert.IsType<ErrorReply>(await service.RequestAsync(Spec("sneaky")));
        Assert.Equal((int)XenErrno.EPERM, denied.Errno);
        Assert.IsType<DomainList>(await service.RequestAsync(new ListDomains()));
        // The service's id is reserved: a guest created now never gets it.
        var guest = await _control.CallAsync<DomainCreated>(Spec("after-netback"));
        Assert.NotEqual(2, guest.DomainId);
        Assert.Equal((int)XenErrno.EEXIST, Assert.IsType<ErrorReply>(await _control.RequestAsync(new RegisterService("again", 2))).Errno);
    }

    [Fact]
    public async Task GarbageOnOneConnectionDoesNotDisturbAnother()
    {
        for (var i = 0; i < 20; i++)
        {
            using var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await raw.ConnectAsync(new UnixDomainSocketEndPoint(_kernel.Socket));
            var junk = new byte[1 + (i * 37)];
            new Random(i).NextBytes(junk);
            if (i % 2 == 0 && junk.Length >= 4)
            {
                BitConverter.GetBytes(uint.MaxValue).CopyTo(junk, 0); // a frame length that lies
            }

            await raw.SendAsync(junk);
            raw.Shutdown(SocketShutdown.Send);
            var buffer = new byte[4096];
            while (await raw.ReceiveAsync(buffer) > 0)
            {
            }
        }

        Assert.IsType<HostInfo>(await _control.RequestAsync(new GetHostInfo()));
        Assert.False(_kernel.HasExited);
    }

    [Fact]
    public async Task SigtermStopsTheKernelCleanly()
    {
        await BootAsync(new GuestProgram().Emit(Asm.Wfi).JumpBack(1), "idle");
        Assert.True(await _kernel.TerminateAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, _kernel.ExitCode);
        Assert.False(File.Exists(_kernel.Socket));
        // A request after the kernel went fails at once with a typed error; it never waits forever.
        var lost = await Record.ExceptionAsync(() => _control.RequestAsync(new ListDomains()).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(lost is KernelConnectionLostException or System.Net.Sockets.SocketException or IOException, $"got {lost}");
    }
}
