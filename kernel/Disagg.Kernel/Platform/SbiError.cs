namespace Disagg.Kernel.Platform;

/// <summary>SBI error codes (SBI spec 2.0, table 1). Wire values.</summary>
internal static class SbiError
{
    public const long Success = 0;
    public const long Failed = -1;
    public const long NotSupported = -2;
    public const long InvalidParam = -3;
    public const long Denied = -4;
    public const long InvalidAddress = -5;
    public const long AlreadyAvailable = -6;
}
