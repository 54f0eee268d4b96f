namespace Disagg.Kernel.Core.Domains;

/// <summary>One loadable piece of a kernel image: bytes at a guest-physical address, zero-filled up to MemorySize.</summary>
public sealed record ImageSegment(ulong PhysicalAddress, byte[] Data, ulong MemorySize);
