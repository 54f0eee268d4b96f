namespace Disagg.Toolstack.Cli;

/// <summary>One row of `disagg top`: CPU % over the last interval (100 = one pCPU).</summary>
internal sealed record TopRow(string Name, int Id, string State, double CpuPercent, long CpuTimeNs, long MemoryMiB, long MaxMemoryMiB, int Vcpus);
