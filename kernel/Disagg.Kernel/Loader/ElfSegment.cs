namespace Disagg.Kernel.Loader;

/// <summary>One PT_LOAD segment: file bytes at <see cref="Offset"/>, loaded at the physical address, zero-filled up to MemorySize.</summary>
internal readonly record struct ElfSegment(ulong Offset, ulong PhysicalAddress, ulong FileSize, ulong MemorySize);
