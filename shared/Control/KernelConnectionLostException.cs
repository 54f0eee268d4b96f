namespace Disagg.Control;

/// <summary>The kernel's control connection closed (the kernel exited, or a protocol error).</summary>
public sealed class KernelConnectionLostException(Exception? cause)
    : Exception("connection to disagg-kernel lost" + (cause is null ? "" : ": " + cause.Message), cause);
