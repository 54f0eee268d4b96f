namespace Disagg.Control.Messages;

/// <summary>
/// Loads a PV kernel into a paused domain: the ELF (and an optional ramdisk) arrive as file
/// descriptors beside this frame, so the kernel opens no paths of its own.
/// </summary>
public sealed record LoadKernel(int DomainId, string CommandLine, bool HasRamdisk) : ControlMessage;
