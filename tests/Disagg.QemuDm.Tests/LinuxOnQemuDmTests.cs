using System.Diagnostics;
using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Service;
using Disagg.TestSupport;
using Disagg.TestSupport.LinuxGuest;
using Xunit.Abstractions;

namespace Disagg.QemuDm.Tests;

/// <summary>
/// Debian's unmodified riscv64 Linux on a real disagg-kernel with a real disagg-qemu-dm as its device model:
/// its console is qemu-dm's ns16550a (console=ttyS0), every UART access an ioreq. It boots to a busybox shell
/// on ttyS0, shows both harts, runs what is typed; qemu-dm is SIGKILLed while the shell runs and a new one
/// takes the ioreq page and the UART state back, and the shell goes on; poweroff -f ends the domain.
/// </summary>
public sealed class LinuxOnQemuDmTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int DeviceModelDomain = 20;

    /// <summary>A boot is a few billion instructions plus one ioreq per UART access; the bound leaves room for a loaded host.</summary>
    private static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(6);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(1);

    private HvmTestKernel _host = null!;

    public async Task InitializeAsync() => _host = await HvmTestKernel.StartAsync("qemu-dm-test");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [LinuxGuestFact]
    public async Task LinuxBootsToAShellOnTheUartSurvivesAQemuDmKillAndPowersOff()
    {
        var token = (await _host.Control.CallAsync<ServiceRegistered>(new RegisterService("qemu-dm", DeviceModelDomain))).Token;
        var spec = new CreateDomain("linux-hvm", GuestIsa.Rv64, 2, 2, 128 << 10, 128 << 10, 256, 0, [ulong.MaxValue], 0, 0, Hvm: true);
        var id = (await _host.Control.CallAsync<DomainCreated>(spec)).DomainId;
        await _host.Control.CallAsync<OkReply>(new SetDeviceModel(id, DeviceModelDomain));
        var socket = Path.Combine(_host.State, "console.sock");
        using var dm = new ServiceProcess("disagg-qemu-dm", ["--domain", $"{id}", "--state-dir", _host.State, "--console-socket", socket], new Dictionary<string, string>
        {
            [ServiceEnvironment.KernelSocketVariable] = _host.Kernel.Socket,
            [ServiceEnvironment.TokenVariable] = token,
            [ServiceEnvironment.DomainIdVariable] = $"{DeviceModelDomain}",
        });
        await dm.StartAsync();

        var commandLine = "console=ttyS0 earlycon=sbi panic=-1 loglevel=5 DISAGG_SHELL=ttyS0 DISAGG_RUN=\"cat /proc/cpuinfo\"";
        await _host.Control.CallAsync<OkReply>(new LoadKernel(id, await File.ReadAllBytesAsync(LinuxGuestFiles.Kernel), await File.ReadAllBytesAsync(LinuxGuestFiles.Initramfs), commandLine));
        var clock = Stopwatch.StartNew();
        await _host.Control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Unpause));

        var console = await UartConsole.ConnectAsync(socket, TimeSpan.FromSeconds(30));
        try
        {
            var at = await console.WaitForAsync("disagg-init: shell on /dev/ttyS0", BootTimeout);
            output.WriteLine($"create to shell: {clock.Elapsed.TotalSeconds:F1} s");
            Assert.Contains("disagg-run: processor\t: 0", console.Text, StringComparison.Ordinal);
            Assert.Contains("disagg-run: processor\t: 1", console.Text, StringComparison.Ordinal); // both harts, printed through the UART
            Assert.Contains("ttyS0", console.Text, StringComparison.Ordinal);

            at = await console.WaitForAsync("# ", CommandTimeout, at);
            await console.TypeAsync("echo typed-$((6*7))");
            at = await console.WaitForAsync("typed-42", CommandTimeout, at);

            // SIGKILL qemu-dm while the shell runs: the guest pauses, a new one takes over, the shell goes on.
            dm.Kill();
            await console.DisposeAsync();
            await dm.StartAsync();
            Assert.True(dm.WaitForStdErr("UART state resumed", TimeSpan.FromSeconds(30)), dm.StdErr); // logged after the ready line
            console = await UartConsole.ConnectAsync(socket, TimeSpan.FromSeconds(30));
            await console.TypeAsync("echo after-restart-$((40+2))");
            await console.WaitForAsync("after-restart-42", CommandTimeout, 0);

            await console.TypeAsync("poweroff -f");
            var end = await WaitForEndAsync(id, CommandTimeout);
            Assert.Equal("s", end.State);
            Assert.Equal((int)ShutdownReason.Poweroff, end.ShutdownReason);
        }
        finally
        {
            output.WriteLine(console.Text);
            output.WriteLine(dm.StdErr);
            await console.DisposeAsync();
        }
    }

    [Fact]
    public async Task AServiceThatIsNotTheDomainsDeviceModelGetsNoIoreqPage()
    {
        var token = (await _host.Control.CallAsync<ServiceRegistered>(new RegisterService("not-dm", 21))).Token;
        var id = (await _host.Control.CallAsync<DomainCreated>(new CreateDomain("hvm", GuestIsa.Rv64, 1, 1, 8 << 10, 8 << 10, 256, 0, [ulong.MaxValue], 0, 0, Hvm: true))).DomainId;
        using var dm = new ServiceProcess("disagg-qemu-dm", ["--domain", $"{id}", "--state-dir", _host.State, "--console-socket", Path.Combine(_host.State, "c.sock")], new Dictionary<string, string>
        {
            [ServiceEnvironment.KernelSocketVariable] = _host.Kernel.Socket,
            [ServiceEnvironment.TokenVariable] = token,
            [ServiceEnvironment.DomainIdVariable] = "21",
        });
        await Assert.ThrowsAnyAsync<Exception>(() => dm.StartAsync(TimeSpan.FromSeconds(60)));
        Assert.True(dm.WaitForStdErr($"is not the device model of domain {id}", TimeSpan.FromSeconds(10)), dm.StdErr);

        var e = await Assert.ThrowsAsync<KernelRequestException>(() => _host.Control.CallAsync<OkReply>(new SetDeviceModel(id, 99)));
        Assert.Equal((int)XenErrno.EINVAL, e.Errno);
    }

    private async Task<DomainEvent> WaitForEndAsync(int id, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            var e = await _host.Control.Events.ReadAsync(cancel.Token);
            if (e.DomainId == id && e.State is "s" or "c")
            {
                return e;
            }
        }
    }
}
