namespace Disagg.Kernel.Platform;

/// <summary>What an SBI call means for the hart's owner: carry on, or the guest asked for a system reset.</summary>
internal readonly record struct SbiOutcome(bool Reset, uint ResetType, uint ResetReason)
{
    public static SbiOutcome Continue => default;

    public static SbiOutcome SystemReset(uint type, uint reason) => new(true, type, reason);
}
