namespace Disagg.Virtio.Queue;

/// <summary>One buffer of a walked descriptor chain: guest-physical range and direction.</summary>
public readonly record struct ChainSegment(ulong Address, uint Length, bool DeviceWritable);
