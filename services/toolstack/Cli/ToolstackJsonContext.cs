using System.Text.Json.Serialization;
using Disagg.Toolstack.Config;

namespace Disagg.Toolstack.Cli;

/// <summary>Source-generated JSON for `--json` and dry-run output (NativeAOT has no reflection serializer).</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    UseStringEnumConverter = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DomainConfig))]
internal sealed partial class ToolstackJsonContext : JsonSerializerContext;
