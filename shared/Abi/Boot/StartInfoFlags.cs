namespace Disagg.Abi.Boot;

/// <summary>start_info.flags (xen.h SIF_*).</summary>
[Flags]
public enum StartInfoFlags : uint
{
    None = 0,
    Privileged = 1 << 0,
    InitDomain = 1 << 1,
    MultibootMod = 1 << 2,
    ModStartPfn = 1 << 3,
    VirtP2mPfn = 1 << 4,
}
