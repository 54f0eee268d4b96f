using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.TestSupport;

namespace Disagg.QemuDm.Tests;

/// <summary>
/// What each HVM test class runs its guest on: a real disagg-kernel (2 pCPUs, 512 MiB: a 128 MiB Linux guest
/// and room to spare), a control connection subscribed to domain events, and a state dir of its own for
/// qemu-dm's files, all gone when it is disposed.
/// </summary>
internal sealed class HvmTestKernel : IAsyncDisposable
{
    private HvmTestKernel(KernelProcess kernel, KernelClient control, string state)
    {
        Kernel = kernel;
        Control = control;
        State = state;
    }

    public KernelProcess Kernel { get; }

    public KernelClient Control { get; }

    /// <summary>The test's state dir (qemu-dm's state files, the console socket, disk images).</summary>
    public string State { get; }

    public static async Task<HvmTestKernel> StartAsync(string name)
    {
        var state = Directory.CreateTempSubdirectory(name).FullName;
        var kernel = await KernelProcess.StartAsync(pcpus: 2, memory: "512M");
        var control = await kernel.ConnectAsync();
        await control.CallAsync<OkReply>(new Subscribe());
        return new HvmTestKernel(kernel, control, state);
    }

    public async ValueTask DisposeAsync()
    {
        await Control.DisposeAsync();
        await Kernel.DisposeAsync();
        Directory.Delete(State, recursive: true);
    }
}
