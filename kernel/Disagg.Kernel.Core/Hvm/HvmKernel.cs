using Disagg.Kernel.Core.Domains;

namespace Disagg.Kernel.Core.Hvm;

/// <summary>
/// What an HVM domain boots, as its loader read it (a Linux RISC-V Image, an ELF or a raw binary,
/// kernel/Disagg.Kernel/Loader/HvmKernelLoader): the pieces at their guest-physical addresses and where
/// vCPU 0 starts. <see cref="HvmMachine.PrepareBoot"/> checks that they fit RAM below the initrd and tree.
/// </summary>
/// <param name="Format">The loader's name for the file ("Linux Image", "ELF", "raw"), for the log and errors.</param>
public sealed record HvmKernel(string Format, IReadOnlyList<ImageSegment> Segments, ulong Entry);
