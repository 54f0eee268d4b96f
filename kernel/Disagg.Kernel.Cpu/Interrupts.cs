namespace Disagg.Kernel.Cpu;

/// <summary>Supervisor interrupt bits, as in sip/sie. Wire values: the ISA's bit positions.</summary>
[Flags]
public enum Interrupts
{
    None = 0,
    SupervisorSoftware = 1 << 1,
    SupervisorTimer = 1 << 5,
    SupervisorExternal = 1 << 9,
}
