namespace Disagg.Control.Messages;

/// <summary>
/// Loads a PV kernel into a paused domain. The image travels in the frame (only the control
/// domain may send frames this large), so the kernel opens no paths of its own.
/// </summary>
public sealed record LoadKernel(int DomainId, byte[] Kernel, byte[]? Ramdisk, string CommandLine) : ControlMessage;
