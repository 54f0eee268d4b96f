namespace Disagg.Kernel.Cpu.Fuzz;

/// <summary>What a fuzz run did; <see cref="Failure"/> is null when every program behaved.</summary>
public sealed record FuzzReport(long Programs, long Instructions, long Traps, long SbiCalls, long Idles, string? Failure);
