namespace Disagg.Xenbus.Backend;

/// <summary>
/// What a backend service supplies to <see cref="XenbusBackend{TDevice, TConnection}"/>: its device's set-up,
/// its features, how to read the frontend's connection keys, and how to connect and disconnect its data path.
/// Every call comes from the backend's one control task, so a driver's device records need no locks.
/// </summary>
/// <typeparam name="TDevice">The service's record of one device (settings, open image, the connected ring).</typeparam>
/// <typeparam name="TConnection">
/// What the frontend wrote to connect (ring references, event channels): equal values mean the same connection,
/// so a repeated watch event changes nothing and new values mean the frontend started over.
/// </typeparam>
public interface IXenbusDriver<TDevice, TConnection>
    where TDevice : class
    where TConnection : IEquatable<TConnection>
{
    /// <summary>The xenbus device type: "vif", "vbd".</summary>
    string DeviceType { get; }

    /// <summary>What a new process does with a frontend it finds Connected.</summary>
    RestartRule Restart { get; }

    /// <summary>Reads the toolstack's keys and prepares the device (opens an image...); throws <see cref="XenbusDeviceException"/>.</summary>
    Task<TDevice> SetUpAsync(XenbusDevice device, XenstoreClient xs, CancellationToken cancel);

    /// <summary>The feature keys written before InitWait (spec §8/§9: the backend's device properties).</summary>
    IReadOnlyList<(string Key, string Value)> Features(TDevice device);

    /// <summary>The frontend's connection keys; throws <see cref="XenbusDeviceException"/> for a missing or malformed one.</summary>
    Task<TConnection> ReadFrontendAsync(TDevice device, XenstoreClient xs, CancellationToken cancel);

    /// <summary>Maps the rings, binds the ports and hands the device to the data path; throws <see cref="XenbusDeviceException"/>, having undone what it did.</summary>
    Task ConnectAsync(TDevice device, TConnection connection, CancellationToken cancel);

    /// <summary>Takes the device from the data path and lets go of its rings and ports; a no-op when not connected.</summary>
    Task DisconnectAsync(TDevice device);

    /// <summary>The reason the current connection's ring broke (garbage indices), or null while it is sound.</summary>
    string? FaultOf(TDevice device);

    /// <summary>The toolstack removed the directory (the device is disconnected already): let go of everything else.</summary>
    ValueTask ForgetAsync(TDevice device);
}
