using System.Text.Json.Serialization;

namespace Disagg.Toolstack.Fault.Report;

/// <summary>Source-generated JSON of report.json (NativeAOT has no reflection serializer).</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    UseStringEnumConverter = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FaultReport))]
internal sealed partial class FaultJsonContext : JsonSerializerContext;
