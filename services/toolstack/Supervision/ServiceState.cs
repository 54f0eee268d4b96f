using System.Text.Json.Serialization;

namespace Disagg.Toolstack.Supervision;

/// <summary>A supervised service's state, as `disagg service list` shows it.</summary>
public enum ServiceState
{
    [JsonStringEnumMemberName("starting")]
    Starting,
    [JsonStringEnumMemberName("running")]
    Running,
    [JsonStringEnumMemberName("restarting")]
    Restarting,
    [JsonStringEnumMemberName("failed")]
    Failed,
    [JsonStringEnumMemberName("stopped")]
    Stopped,
}
