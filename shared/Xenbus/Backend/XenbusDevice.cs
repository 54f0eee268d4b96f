using System.Globalization;

namespace Disagg.Xenbus.Backend;

/// <summary>
/// One device of a backend as xenstore names it: the frontend domain and device id from the directory's place
/// (/local/domain/BE/backend/TYPE/FE/DEVID), the backend directory, and the frontend directory the toolstack
/// wrote in its `frontend` node.
/// </summary>
public sealed record XenbusDevice(string Type, int FrontendDomain, int DeviceId, string BackendPath, string FrontendPath)
{
    /// <summary>"vif 10/0", "vbd 20/0": how logs and error nodes name it.</summary>
    public string Name => string.Create(CultureInfo.InvariantCulture, $"{Type} {FrontendDomain}/{DeviceId}");

    public override string ToString() => Name;
}
