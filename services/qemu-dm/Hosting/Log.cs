using Microsoft.Extensions.Logging;

namespace Disagg.QemuDm.Hosting;

/// <summary>The lines an operator cares about, one per event.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Critical, Message = "cannot start: {Reason}")]
    public static partial void CannotStart(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {Domain}: ioreq page mapped for {Vcpus} vCPUs, ports {Ports} bound; UART state {State}; console at {Console}")]
    public static partial void Serving(ILogger logger, int domain, int vcpus, string ports, string state, string console);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {Domain}: virtio-mmio slot {Slot} at 0x{Base:x} (PLIC {Irq}): {Device}")]
    public static partial void VirtioSlot(ILogger logger, int domain, int slot, ulong @base, int irq, string device);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {Domain}: virtio slot {Slot} state resumed: {Device}, {Completed} requests completed on resume")]
    public static partial void VirtioResumed(ILogger logger, int domain, int slot, string device, int completed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "domain {Domain}: guest driver error, device needs reset: {Fault}")]
    public static partial void VirtioFault(ILogger logger, int domain, string fault);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {Domain}: guest memory: {Copies} copies in {RoundTrips} round trips ({Mapped} through {Pages} mapped ring pages)")]
    public static partial void GuestMemory(ILogger logger, int domain, long copies, long roundTrips, long mapped, int pages);

    [LoggerMessage(Level = LogLevel.Critical, Message = "domain {Domain}: the ioreq loop cannot go on; exiting so the supervisor restarts us (the guest waits)")]
    public static partial void LoopFailed(ILogger logger, int domain, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {Domain} was destroyed; exiting")]
    public static partial void DomainGone(ILogger logger, int domain);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Nic}: mac {Mac} on bridge {Bridge}: vif{Domain}.{Device} connected to netback domain {Backend} (port {Port})")]
    public static partial void NicConnected(ILogger logger, string nic, string mac, string bridge, int backend, int domain, int device, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Nic}: not connected yet (attempt {Attempt}): {Reason}; retrying")]
    public static partial void NicNotConnected(ILogger logger, string nic, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Nic}: could not remove the vif from xenstore: {Reason}")]
    public static partial void NicRemoveFailed(ILogger logger, string nic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Nic}: dropped a guest frame of {Size} bytes, longer than the vif takes ({Total} oversized so far)")]
    public static partial void NicOversized(ILogger logger, string nic, int size, long total);
}
