namespace Disagg.Kernel.Cpu;

/// <summary>The privilege a hart runs at. There is no M-mode: the kernel is the SBI firmware. Values are the ISA's encodings.</summary>
public enum Privilege
{
    User = 0,
    Supervisor = 1,
}
