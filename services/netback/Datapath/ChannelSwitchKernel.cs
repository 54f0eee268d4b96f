using Disagg.Abi.Grants;
using Disagg.Abi.Service;
using Disagg.Interop;
using Disagg.Service;

namespace Disagg.Netback.Datapath;

/// <summary>The switching thread's kernel: a service channel's copy buffer, copy ring and event bitmap.</summary>
public sealed class ChannelSwitchKernel(ServiceChannel channel) : ISwitchKernel
{
    public int BufferPages => channel.BufferPages;

    public Doorbell Doorbell => channel.Doorbell;

    public int CopyRingEntries => ServiceCopyRing.Entries;

    public Span<byte> BufferPage(int page) => channel.BufferPage(page);

    public bool TrySubmitCopies(ReadOnlySpan<GrantCopy> ops, out uint end) => channel.TrySubmitCopies(ops, out end);

    public bool CopiesDone(uint end) => channel.CopiesDone(end);

    public bool WaitForCopies(uint end, TimeSpan timeout) => channel.WaitForCopies(end, timeout);

    public short CopyStatus(uint index) => channel.CopyStatus(index);

    public int TakePendingEvents(Span<int> ports) => channel.TakePendingEvents(ports);

    public bool PrepareToSleep() => channel.PrepareToSleep();

    public bool Notify(int port) => channel.Notify(port);
}
