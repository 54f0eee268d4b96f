using Disagg.Abi.Hypercalls;

namespace Disagg.QemuDm.Devices;

/// <summary>
/// The SiFive test device ("sifive,test0", QEMU hw/misc/sifive_test.c): a 32-bit write at offset 0 of 0x5555
/// powers off, 0x7777 resets, 0x3333 | code &lt;&lt; 16 powers off with a failure (a crash here). Linux reaches it
/// through the device tree's syscon-poweroff/-reboot nodes. Anything else is ignored; reads are 0.
/// </summary>
internal sealed class SifiveTest(IDevicePlatform platform) : IMmioWindow
{
    public const ulong WindowBase = 0x10_0000;

    public ulong Base => WindowBase;

    public ulong Size => 0x1000;

    public ulong Read(ulong offset, int size) => 0;

    public void Write(ulong offset, int size, ulong value)
    {
        if (offset != 0 || size != 4)
        {
            return;
        }

        switch (value & 0xFFFF)
        {
            case 0x5555:
                platform.Shutdown(ShutdownReason.Poweroff);
                break;
            case 0x7777:
                platform.Shutdown(ShutdownReason.Reboot);
                break;
            case 0x3333:
                platform.Shutdown(ShutdownReason.Crash);
                break;
        }
    }
}
