using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.QemuDm.Devices;

namespace Disagg.QemuDm.Hosting;

/// <summary>The devices' requests to the kernel, over the service's control connection, each answered before the device goes on.</summary>
internal sealed class KernelDevicePlatform(KernelClient kernel, int domain) : IDevicePlatform
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public void SetIrqLevel(int irq, bool asserted) => Call(new SetIrqLevel(domain, irq, asserted));

    public void Shutdown(ShutdownReason reason) => Call(new DeviceModelShutdown(domain, (int)reason));

    public void ReadGuest(ulong address, Span<byte> destination)
    {
        for (var done = 0; done < destination.Length;)
        {
            var n = Math.Min(destination.Length - done, 64 * 1024);
            var reply = kernel.CallAsync<GuestMemoryData>(new ReadGuestMemory(domain, address + (ulong)done, n)).WaitAsync(Patience).GetAwaiter().GetResult();
            reply.Data.CopyTo(destination[done..]);
            done += n;
        }
    }

    public void WriteGuest(ulong address, ReadOnlySpan<byte> source)
    {
        for (var done = 0; done < source.Length;)
        {
            var n = Math.Min(source.Length - done, 64 * 1024);
            Call(new WriteGuestMemory(domain, address + (ulong)done, source.Slice(done, n).ToArray()));
            done += n;
        }
    }

    private void Call(ControlMessage request) => kernel.CallAsync<OkReply>(request).WaitAsync(Patience).GetAwaiter().GetResult();
}
