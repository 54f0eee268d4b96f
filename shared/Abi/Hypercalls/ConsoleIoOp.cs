namespace Disagg.Abi.Hypercalls;

/// <summary>console_io sub-operations (xen.h CONSOLEIO_*).</summary>
public enum ConsoleIoOp : uint
{
    Write = 0,
    Read = 1,
}
