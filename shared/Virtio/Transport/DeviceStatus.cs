namespace Disagg.Virtio.Transport;

/// <summary>The device status field (virtio 1.x §2.1). Writing 0 resets the device.</summary>
[Flags]
public enum DeviceStatus : byte
{
    None = 0,
    Acknowledge = 1,
    Driver = 2,
    DriverOk = 4,
    FeaturesOk = 8,

    /// <summary>Set by the device when it stopped on an error; only a reset clears it.</summary>
    DeviceNeedsReset = 64,
    Failed = 128,
}
