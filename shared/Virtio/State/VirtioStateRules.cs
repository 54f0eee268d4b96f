using Disagg.Virtio.Device;
using Disagg.Virtio.Transport;

namespace Disagg.Virtio.State;

/// <summary>What a saved record must satisfy before a device takes it back: the record is input from disk or a migration stream, so untrusted.</summary>
internal static class VirtioStateRules
{
    public static void Check(VirtioDeviceState state, IVirtioDevice device, ulong offered)
    {
        if (state.DeviceId != (uint)device.Type)
        {
            throw new VirtioStateException(device.Name, $"saved for device id {state.DeviceId}, this is {(uint)device.Type}");
        }

        if (state.Queues.Length != device.QueueCount)
        {
            throw new VirtioStateException(device.Name, $"{state.Queues.Length} queues saved, the device has {device.QueueCount}");
        }

        if (((DeviceStatus)state.Status & DeviceStatus.FeaturesOk) != 0
            && ((state.DriverFeatures & ~offered) != 0 || (state.DriverFeatures & VirtioFeature.Version1) == 0))
        {
            throw new VirtioStateException(device.Name, $"negotiated features 0x{state.DriverFeatures:x} are not a VERSION_1 subset of 0x{offered:x}");
        }

        for (var i = 0; i < state.Queues.Length; i++)
        {
            var size = state.Queues[i].Size;
            if (size > device.MaxQueueSize(i))
            {
                throw new VirtioStateException(device.Name, $"queue {i}: size {size} above QueueNumMax {device.MaxQueueSize(i)}");
            }
        }
    }
}
