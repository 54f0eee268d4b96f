namespace Disagg.Kernel.Core.Hvm;

/// <summary>
/// An HVM kernel that cannot boot where it asks to: a segment outside the domain's RAM or over the initrd or
/// device tree, an entry point in no segment. The control request that loaded it is refused (EINVAL) with
/// <see cref="Exception.Message"/>; nothing of the kernel is loaded.
/// </summary>
public sealed class HvmBootException : Exception
{
    public HvmBootException(int domainId, string format, string reason)
        : base($"domain {domainId}: {format} kernel: {reason}")
    {
        DomainId = domainId;
        Format = format;
        Reason = reason;
    }

    public HvmBootException()
    {
        Format = Reason = "";
    }

    public HvmBootException(string message)
        : base(message)
    {
        Format = Reason = "";
    }

    public HvmBootException(string message, Exception innerException)
        : base(message, innerException)
    {
        Format = Reason = "";
    }

    public int DomainId { get; }

    public string Format { get; }

    public string Reason { get; }
}
