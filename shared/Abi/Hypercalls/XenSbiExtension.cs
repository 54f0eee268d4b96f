namespace Disagg.Abi.Hypercalls;

/// <summary>The SBI extension id that carries Xen hypercalls (firmware-specific space, ASCII "XEN").</summary>
public static class XenSbiExtension
{
    public const uint Id = 0x0A58454E;
}
