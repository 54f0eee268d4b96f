namespace Disagg.Abi.Events;

/// <summary>Virtual interrupts a domain can bind a port to (xen.h VIRQ_*); 24 in all.</summary>
public enum Virq : uint
{
    Timer = 0,
    Debug = 1,
    Console = 2,
    DomExc = 3,
    Count = 24,
}
