namespace Disagg.Abi.Io;

/// <summary>xenstore_domain_interface.error values (XENSTORE_ERROR_*).</summary>
public enum XenstoreRingError : uint
{
    None = 0,
    Comm = 1,
    RingIndex = 2,
    Protocol = 3,
}
