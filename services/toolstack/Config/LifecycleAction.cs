using System.Text.Json.Serialization;

namespace Disagg.Toolstack.Config;

/// <summary>What xl does when a domain powers off, reboots or crashes (on_poweroff/on_reboot/on_crash).</summary>
public enum LifecycleAction
{
    [JsonStringEnumMemberName("destroy")]
    Destroy,
    [JsonStringEnumMemberName("restart")]
    Restart,
    [JsonStringEnumMemberName("preserve")]
    Preserve,
    [JsonStringEnumMemberName("rename-restart")]
    RenameRestart,
}
