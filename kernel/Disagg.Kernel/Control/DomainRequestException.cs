using Disagg.Abi.Hypercalls;

namespace Disagg.Kernel.Control;

/// <summary>A control request that cannot be done: its Xen errno and a message naming the domain and the reason.</summary>
internal sealed class DomainRequestException(XenErrno errno, string message) : Exception(message)
{
    public XenErrno Errno { get; } = errno;
}
