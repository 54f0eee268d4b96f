namespace Disagg.Blkback.Xenbus;

/// <summary>A device that cannot be set up or connected: which frontend domain and device, and why.</summary>
public sealed class VbdException : Exception
{
    public VbdException(int frontendDomain, int deviceId, string reason, Exception? inner = null)
        : base($"vbd {frontendDomain}/{deviceId}: {reason}", inner)
    {
        FrontendDomain = frontendDomain;
        DeviceId = deviceId;
        Reason = reason;
    }

    public VbdException()
        : this(-1, -1, "vbd error")
    {
    }

    public VbdException(string message)
        : this(-1, -1, message)
    {
    }

    public VbdException(string message, Exception innerException)
        : this(-1, -1, message, innerException)
    {
    }

    public int FrontendDomain { get; }

    public int DeviceId { get; }

    public string Reason { get; }
}
