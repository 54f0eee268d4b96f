namespace Disagg.Kernel.Core.Ipc.Grants;

/// <summary>
/// A domain's memory as grant operations reach it, one 4 KiB frame at a time: a guest's
/// through its P2M, a service's through the copy buffers it shares with the kernel.
/// </summary>
public unsafe interface IGuestFrames
{
    /// <summary>The host address of the frame, or null if the frame is not this domain's memory.</summary>
    byte* TryGetFrame(ulong frame, bool write);
}
