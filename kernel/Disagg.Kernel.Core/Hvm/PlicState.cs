namespace Disagg.Kernel.Core.Hvm;

/// <summary>
/// Everything a <see cref="Plic"/> holds, as plain arrays (Firecracker's Save()/Restore() habit): per source
/// 0..Sources its priority, line level, pending and in-service bits; per context its enable words and threshold.
/// The external lines (SEIP) are not state: they follow from the rest.
/// </summary>
public sealed record PlicState(int Sources, int Contexts, uint[] Priority, bool[] Level, bool[] Pending, bool[] InService, uint[] Enable, uint[] Threshold);
