namespace Disagg.Kernel.Runner;

/// <summary>Process exit codes of `disagg-kernel run-elf`, distinct so scripts and tests can tell them apart. Append-only.</summary>
internal static class ExitCodes
{
    /// <summary>The guest shut down with no reason (SRST reason 0).</summary>
    public const int Shutdown = 0;

    /// <summary>The guest crashed (SRST reason 1, a crash through SCHEDOP_shutdown) or stopped its only hart.</summary>
    public const int GuestFailure = 1;

    public const int Usage = 2;

    /// <summary>The file is missing, not a RISC-V ELF, or does not fit the guest's RAM.</summary>
    public const int BadElf = 3;

    /// <summary>--max-instructions ran out before the guest shut down.</summary>
    public const int InstructionLimit = 4;

    /// <summary>The guest asked for a reboot; a runner has nothing to reboot into.</summary>
    public const int Reboot = 5;

    /// <summary>Our own invariant broke (an engine exception, logged by the kernel as a BUG): stop loudly.</summary>
    public const int InternalError = 70;
}
