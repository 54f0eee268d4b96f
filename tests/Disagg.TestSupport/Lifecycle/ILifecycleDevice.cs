namespace Disagg.TestSupport.Lifecycle;

/// <summary>One connected frontend of a <see cref="ILifecycleRig"/>, driven through its own kind of ring.</summary>
public interface ILifecycleDevice
{
    string BackendPath { get; }

    string FrontendPath { get; }

    /// <summary>Moves data through the backend (frames to a peer and back, a block written and read back) and asserts it arrived intact.</summary>
    Task AssertDataFlowsAsync();

    /// <summary>What this kind of frontend does once the restarted backend shows its state (§6): resume, or reconnect and re-issue.</summary>
    Task FollowBackendRestartAsync();

    /// <summary>A hostile frontend: moves its request producer far past anything it produced, and notifies.</summary>
    void BreakRing();

    /// <summary>Whether the backend's status file shows the device's data path connected.</summary>
    Task<bool> StatusSaysConnectedAsync(bool expected);
}
