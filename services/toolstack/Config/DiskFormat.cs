using System.Text.Json.Serialization;

namespace Disagg.Toolstack.Config;

public enum DiskFormat
{
    [JsonStringEnumMemberName("raw")]
    Raw,
    [JsonStringEnumMemberName("qcow2")]
    Qcow2,
}
