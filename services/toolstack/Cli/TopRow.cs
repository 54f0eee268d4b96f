using System.Text.Json.Serialization;

namespace Disagg.Toolstack.Cli;

/// <summary>One row of `disagg top`: CPU % over the last interval (100 = one pCPU).</summary>
internal sealed record TopRow(string Name, int Id, string State, double CpuPercent, long CpuTimeNs, [property: JsonPropertyName("mem_mib")] long MemoryMiB, [property: JsonPropertyName("maxmem_mib")] long MaxMemoryMiB, int Vcpus);
