namespace Disagg.Kernel.Core.Platform;

/// <summary>SBI extension ids (SBI spec 2.0) and the legacy v0.1 function numbers the kernel answers.</summary>
public static class SbiExtension
{
    public const long LegacySetTimer = 0x00;
    public const long LegacyPutchar = 0x01;
    public const long LegacyGetchar = 0x02;
    public const long LegacyClearIpi = 0x03;
    public const long LegacySendIpi = 0x04;
    public const long LegacyRemoteFenceI = 0x05;
    public const long LegacyRemoteSfenceVma = 0x06;
    public const long LegacyRemoteSfenceVmaAsid = 0x07;
    public const long LegacyShutdown = 0x08;
    public const long Base = 0x10;
    public const long Time = 0x54494D45;
    public const long Ipi = 0x735049;
    public const long Rfence = 0x52464E43;
    public const long Hsm = 0x48534D;
    public const long SystemReset = 0x53525354;
    public const long DebugConsole = 0x4442434E;

    /// <summary>
    /// The performance monitoring unit ("PMU"), offered with no counters: Linux's SBI PMU driver probes it and,
    /// per CPU, writes scounteren.TM, which lets user space read the `time` CSR (the vDSO's clock_gettime).
    /// Without it Linux leaves scounteren 0 and every user-mode rdtime is an illegal instruction.
    /// </summary>
    public const long Pmu = 0x504D55;

    /// <summary>Xen hypercalls: firmware-specific space, "XEN" (ARCHITECTURE §2).</summary>
    public const long Xen = 0x0A58454E;

    public const long ErrSuccess = 0;
    public const long ErrFailed = -1;
    public const long ErrNotSupported = -2;
    public const long ErrInvalidParam = -3;
    public const long ErrAlreadyAvailable = -6;
    public const long ErrAlreadyStarted = -7;
    public const long ErrAlreadyStopped = -8;

    /// <summary>"DSGG": Disagg's SBI implementation id (not a registered one).</summary>
    public const long ImplementationId = 0x44534747;
}
