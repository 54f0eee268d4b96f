using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Service;
using Disagg.TestSupport;
using Disagg.TestSupport.LinuxGuest;

namespace Disagg.QemuDm.Tests;

/// <summary>
/// Debian's Linux as an HVM domain of a real disagg-kernel with a real disagg-qemu-dm (given extra device
/// options), booted to a busybox shell on the UART: what the virtio tests drive. qemu-dm can be SIGKILLed
/// and started again with the same arguments, as its supervisor would.
/// </summary>
internal sealed class HvmLinuxGuest : IAsyncDisposable
{
    /// <summary>A boot is a few billion instructions plus one ioreq per device access; room for a loaded host.</summary>
    public static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(6);

    private readonly KernelClient _control;
    private readonly string _socket;
    private readonly System.Text.StringBuilder _earlier = new();

    private HvmLinuxGuest(KernelClient control, int id, ServiceProcess dm, string socket, UartConsole console)
    {
        _control = control;
        Id = id;
        DeviceModel = dm;
        _socket = socket;
        Console = console;
    }

    public int Id { get; }

    public ServiceProcess DeviceModel { get; }

    public UartConsole Console { get; private set; }

    /// <summary>Everything the console showed, over every connection (a restarted qemu-dm replays what nobody read).</summary>
    public string History => _earlier + Console.Text;

    /// <summary>Where the console's text was last looked at: each wait starts there.</summary>
    public int At { get; private set; }

    public static async Task<HvmLinuxGuest> BootAsync(KernelProcess kernel, KernelClient control, string stateDirectory, int deviceModelDomain, IEnumerable<string> deviceArgs, long memoryMiB = 128)
    {
        var token = (await control.CallAsync<ServiceRegistered>(new RegisterService("qemu-dm", deviceModelDomain))).Token;
        var spec = new CreateDomain("linux-hvm", GuestIsa.Rv64, 2, 2, memoryMiB << 10, memoryMiB << 10, 256, 0, [ulong.MaxValue], 0, 0, Hvm: true);
        var id = (await control.CallAsync<DomainCreated>(spec)).DomainId;
        await control.CallAsync<OkReply>(new SetDeviceModel(id, deviceModelDomain));
        var socket = Path.Combine(stateDirectory, "console.sock");
        var dm = new ServiceProcess("disagg-qemu-dm", ["--domain", $"{id}", "--state-dir", stateDirectory, "--console-socket", socket, .. deviceArgs], new Dictionary<string, string>
        {
            [ServiceEnvironment.KernelSocketVariable] = kernel.Socket,
            [ServiceEnvironment.TokenVariable] = token,
            [ServiceEnvironment.DomainIdVariable] = $"{deviceModelDomain}",
        });
        await dm.StartAsync();

        var commandLine = "console=ttyS0 earlycon=sbi panic=-1 loglevel=5 DISAGG_SHELL=ttyS0";
        await control.CallAsync<OkReply>(new LoadKernel(id, await File.ReadAllBytesAsync(LinuxGuestFiles.Kernel), await File.ReadAllBytesAsync(LinuxGuestFiles.Initramfs), commandLine));
        await control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Unpause));
        var console = await UartConsole.ConnectAsync(socket, TimeSpan.FromSeconds(30));
        var guest = new HvmLinuxGuest(control, id, dm, socket, console);
        guest.At = await console.WaitForAsync("disagg-init: shell on /dev/ttyS0", BootTimeout);
        guest.At = await console.WaitForAsync("# ", TimeSpan.FromMinutes(1), guest.At);
        return guest;
    }

    /// <summary>
    /// Types <paramref name="command"/> and waits for it to end; returns what it printed (the echoed command
    /// line excluded). A non-zero exit status throws with the output.
    /// </summary>
    public async Task<string> RunAsync(string command, TimeSpan? timeout = null)
    {
        // The shell echoes what is typed (wrapped at 80 columns): the command's output is framed by markers
        // printed from two quoted halves each, so only the output holds them whole.
        var tag = $"{Guid.NewGuid():N}"[..8];
        var from = Console.Text.Length;
        await Console.TypeAsync($"echo \"beg-\"\"{tag}.\"; {command}; echo \"end-\"\"{tag}-$?.\"");
        var begin = await Console.WaitForAsync($"beg-{tag}.", timeout ?? TimeSpan.FromMinutes(2), from);
        var end = await Console.WaitForAsync($"end-{tag}-", timeout ?? TimeSpan.FromMinutes(2), begin);
        var done = await Console.WaitForAsync(".", TimeSpan.FromSeconds(30), end);
        var text = Console.Text;
        At = done;
        var status = text[end..(done - 1)];
        var output = text[begin..(end - $"end-{tag}-".Length)].Replace("\r", string.Empty, StringComparison.Ordinal).TrimStart('\n');
        if (status != "0")
        {
            throw new InvalidOperationException($"'{command}' failed (status {status}):\n{output}");
        }

        return output;
    }

    /// <summary>Types a command without waiting for it (a background job, a long copy).</summary>
    public Task TypeAsync(string command) => Console.TypeAsync(command);

    /// <summary>
    /// SIGKILL qemu-dm and start a new one with the same arguments; the console is reconnected.
    /// <paramref name="stoppedFor"/>: SIGSTOP it first and wait, so the guest's requests pile up unserved.
    /// </summary>
    public async Task RestartDeviceModelAsync(TimeSpan? stoppedFor = null)
    {
        if (stoppedFor is { } wait)
        {
            Disagg.Interop.ProcessSignals.Send(DeviceModel.Pid, Disagg.Interop.ProcessSignals.Sigstop);
            await Task.Delay(wait);
        }

        DeviceModel.Kill();
        await Console.DisposeAsync();
        _earlier.Append(Console.Text);
        await DeviceModel.StartAsync();
        Console = await UartConsole.ConnectAsync(_socket, TimeSpan.FromSeconds(30));
        At = 0;
    }

    public async Task<DomainEvent> PowerOffAsync(TimeSpan timeout)
    {
        await Console.TypeAsync("poweroff -f");
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            var e = await _control.Events.ReadAsync(cancel.Token);
            if (e.DomainId == Id && e.State is "s" or "c")
            {
                return e;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Console.DisposeAsync();
        DeviceModel.Dispose();
    }
}
