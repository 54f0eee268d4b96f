using System.Text.Json.Serialization;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>Source-generated JSON for `--json` and dry-run output (NativeAOT has no reflection serializer).</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    UseStringEnumConverter = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DomainConfig))]
[JsonSerializable(typeof(HostStatusReply))]
[JsonSerializable(typeof(IReadOnlyList<ServiceRow>))]
[JsonSerializable(typeof(IReadOnlyList<DomainRow>))]
[JsonSerializable(typeof(IReadOnlyList<VcpuRow>))]
[JsonSerializable(typeof(IReadOnlyList<SchedCreditRow>))]
[JsonSerializable(typeof(IReadOnlyList<TopRow>))]
[JsonSerializable(typeof(IReadOnlyList<DeviceRow>))]
[JsonSerializable(typeof(MigrateReply))]
internal sealed partial class ToolstackJsonContext : JsonSerializerContext;
