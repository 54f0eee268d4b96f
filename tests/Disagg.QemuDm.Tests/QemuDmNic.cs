using System.Globalization;
using Disagg.Control.Messages;
using Disagg.Service;
using Disagg.TestSupport;
using Disagg.TestSupport.Netif;

namespace Disagg.QemuDm.Tests;

/// <summary>
/// A real disagg-qemu-dm with `--nic` for an HVM domain on a <see cref="NetbackRig"/> (real kernel, xenstored and
/// netback): registers qemu-dm's service domain, creates the HVM domain with it as device model, starts it.
/// The NIC's vif is device 0 of qemu-dm's own domain; tests read netback's view of it.
/// </summary>
internal sealed class QemuDmNic : IAsyncDisposable
{
    public const int DeviceModelDomain = 20;

    private QemuDmNic(NetbackRig rig, int domain, ServiceProcess dm, string consoleSocket)
    {
        Rig = rig;
        Domain = domain;
        Dm = dm;
        ConsoleSocket = consoleSocket;
    }

    public NetbackRig Rig { get; }

    /// <summary>The HVM domain.</summary>
    public int Domain { get; }

    public ServiceProcess Dm { get; }

    public string ConsoleSocket { get; }

    public string BackendPath => $"/local/domain/{NetbackRig.NetbackDomain}/backend/vif/{DeviceModelDomain}/0";

    public string VifName => $"vif{DeviceModelDomain}.0";

    /// <summary>Creates the HVM domain (2 vCPUs, <paramref name="memoryMiB"/>) and starts qemu-dm with one NIC; the kernel is the test's to load.</summary>
    public static async Task<QemuDmNic> StartAsync(NetbackRig rig, string mac, string bridge = "xenbr0", int memoryMiB = 128, string? backend = null)
    {
        var token = (await rig.Control.CallAsync<ServiceRegistered>(new RegisterService("qemu-dm", DeviceModelDomain))).Token;
        var kib = (long)memoryMiB << 10;
        var spec = new CreateDomain("linux-hvm", GuestIsa.Rv64, 2, 2, kib, kib, 256, 0, [ulong.MaxValue], 0, 0, Hvm: true);
        var id = (await rig.Control.CallAsync<DomainCreated>(spec)).DomainId;
        await rig.Control.CallAsync<OkReply>(new SetDeviceModel(id, DeviceModelDomain));
        var socket = Path.Combine(rig.Rig.Directory, "console.sock");
        var nic = $"mac={mac},bridge={bridge}" + (backend is null ? string.Empty : $",backend={backend}");
        var dm = new ServiceProcess("disagg-qemu-dm", ["--domain", $"{id}", "--state-dir", Path.Combine(rig.Rig.Directory, "qemu-dm"), "--console-socket", socket, "--xenstore", rig.XenstoreSocket, "--nic", nic], new Dictionary<string, string>
        {
            [ServiceEnvironment.KernelSocketVariable] = rig.Kernel.Socket,
            [ServiceEnvironment.TokenVariable] = token,
            [ServiceEnvironment.DomainIdVariable] = DeviceModelDomain.ToString(CultureInfo.InvariantCulture),
        });
        await dm.StartAsync();
        return new QemuDmNic(rig, id, dm, socket);
    }

    /// <summary>netback's backend state for the NIC's vif ("4" once connected).</summary>
    public async Task<string?> BackendStateAsync()
    {
        await using var xs = await Xenbus.XenstoreClient.ConnectAsync(Rig.XenstoreSocket, CancellationToken.None);
        return await xs.ReadAsync(Xenbus.XenstoreClient.NoTransaction, BackendPath + "/state", CancellationToken.None);
    }

    /// <summary>Waits until qemu-dm has logged its NIC's <paramref name="n"/>-th connection and netback says Connected.</summary>
    public async Task WaitConnectedAsync(int n, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (CountConnected() < n || await BackendStateAsync() != "4")
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"nic0 not connected ({CountConnected()} of {n} connections, backend state {await BackendStateAsync()})\n{Dm.StdErr}\n{Rig.Netback.StdErr}");
            }

            await Task.Delay(100);
        }
    }

    public int CountConnected() => Dm.StdErr.Split('\n').Count(l => l.Contains("nic0: mac", StringComparison.Ordinal) && l.Contains("connected to netback", StringComparison.Ordinal));

    /// <summary>Kills qemu-dm; the rig is the test's to dispose.</summary>
    public ValueTask DisposeAsync()
    {
        Dm.Dispose();
        return ValueTask.CompletedTask;
    }
}
