using System.Buffers.Binary;
using Disagg.Virtio.Device;

namespace Disagg.Virtio.Transport;

/// <summary>
/// The device-specific configuration space at 0x100 of the window (§4.2.2): aligned 1, 2 and 4-byte
/// accesses (§4.2.2.2: 64-bit fields are read as two 32-bit halves); bytes past the device's
/// configuration read as zero and ignore writes.
/// </summary>
internal static class ConfigWindow
{
    public static bool Valid(uint offset, int size) =>
        size is 1 or 2 or 4
        && (offset & (uint)(size - 1)) == 0
        && offset + (uint)size <= VirtioMmioRegister.WindowSize - VirtioMmioRegister.Config;

    public static uint Read(IVirtioDevice device, uint offset, int size)
    {
        Span<byte> bytes = stackalloc byte[4];
        bytes.Clear();
        var inside = Inside(device, offset, size);
        if (inside > 0)
        {
            device.ReadConfig((int)offset, bytes[..inside]);
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    public static void Write(IVirtioDevice device, uint offset, int size, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        var inside = Inside(device, offset, size);
        if (inside > 0)
        {
            device.WriteConfig((int)offset, bytes[..inside]);
        }
    }

    private static int Inside(IVirtioDevice device, uint offset, int size) =>
        (int)Math.Min((uint)size, (uint)Math.Max(0, device.ConfigSize - (int)offset));
}
