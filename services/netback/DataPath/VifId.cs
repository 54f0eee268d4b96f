using System.Globalization;

namespace Disagg.Netback.DataPath;

/// <summary>A vif's identity: the frontend domain and its device number, named "vifD.N" as in Xen.</summary>
public readonly record struct VifId(int Domain, int Device)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"vif{Domain}.{Device}");
}
