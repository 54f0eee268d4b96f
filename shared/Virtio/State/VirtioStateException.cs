namespace Disagg.Virtio.State;

/// <summary>A saved device state that cannot be taken back: which device, and why (truncated, checksum, another device, bad values).</summary>
public sealed class VirtioStateException : Exception
{
    public VirtioStateException(string device, string reason)
        : base($"{device}: saved virtio state refused: {reason}")
    {
        Device = device;
        Reason = reason;
    }

    public VirtioStateException()
        : this(string.Empty, "invalid state")
    {
    }

    public VirtioStateException(string message)
        : this(string.Empty, message)
    {
    }

    public VirtioStateException(string message, Exception innerException)
        : base(message, innerException)
    {
        Device = string.Empty;
        Reason = message;
    }

    public string Device { get; }

    public string Reason { get; }
}
