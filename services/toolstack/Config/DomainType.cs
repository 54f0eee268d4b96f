using System.Text.Json.Serialization;

namespace Disagg.Toolstack.Config;

/// <summary>xl.cfg `type`: paravirtualized (our guest OS) or fully virtualized (unmodified, devices from qemu-dm).</summary>
public enum DomainType
{
    [JsonStringEnumMemberName("pv")]
    Pv,
    [JsonStringEnumMemberName("hvm")]
    Hvm,
}
