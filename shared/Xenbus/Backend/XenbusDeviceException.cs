namespace Disagg.Xenbus.Backend;

/// <summary>
/// A device that cannot be set up or connected because of what its toolstack or frontend wrote (a missing or
/// malformed key, a grant that does not map, a port not offered): which frontend domain and device, and why.
/// The backend writes <see cref="Reason"/> to the device's `error` node; every other device carries on.
/// </summary>
public sealed class XenbusDeviceException : Exception
{
    public XenbusDeviceException(XenbusDevice device, string reason, Exception? inner = null)
        : this(device.Type, device.FrontendDomain, device.DeviceId, reason, inner)
    {
    }

    public XenbusDeviceException(string type, int frontendDomain, int deviceId, string reason, Exception? inner = null)
        : base($"{type} {frontendDomain}/{deviceId}: {reason}", inner)
    {
        FrontendDomain = frontendDomain;
        DeviceId = deviceId;
        Reason = reason;
    }

    public XenbusDeviceException()
        : this("device", -1, -1, "device error")
    {
    }

    public XenbusDeviceException(string message)
        : this("device", -1, -1, message)
    {
    }

    public XenbusDeviceException(string message, Exception innerException)
        : this("device", -1, -1, message, innerException)
    {
    }

    public int FrontendDomain { get; }

    public int DeviceId { get; }

    public string Reason { get; }
}
