namespace Disagg.Kernel.Control;

internal static class KernelVersion
{
    public const string Value = "0.1.0";
}
