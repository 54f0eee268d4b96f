using Disagg.Xenbus;

namespace Disagg.TestSupport.Lifecycle;

/// <summary>
/// A backend under the shared life-cycle suite (<see cref="BackendLifecycleSuite"/>): the real kernel, xenstored and
/// backend processes of one host in a temp directory, and that backend's kind of frontend. Each backend's test
/// project supplies one; everything else the suite does the same way for every backend.
/// </summary>
public interface ILifecycleRig : IAsyncDisposable
{
    /// <summary>The backend's process: killed with SIGKILL and started again as the supervisor would.</summary>
    ServiceProcess Backend { get; }

    ServiceProcess Xenstored { get; }

    string XenstoreSocket { get; }

    /// <summary>A frontend in a domain of its own (<paramref name="index"/> 0, 1, ...), connected; returns once the backend is Connected.</summary>
    Task<ILifecycleDevice> AttachAsync(int index);

    /// <summary>
    /// Writes, as the toolstack and a frontend would, a device of domain <paramref name="domain"/> whose toolstack
    /// keys are sound but whose frontend wrote a ring reference that is not a number, and went Initialised.
    /// Returns the device's backend directory.
    /// </summary>
    Task<string> WriteDeviceWithBadRingReferenceAsync(XenstoreClient xs, int domain);
}
