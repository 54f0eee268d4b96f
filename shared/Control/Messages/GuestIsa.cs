namespace Disagg.Control.Messages;

/// <summary>The guest's ISA width. Wire values: append-only.</summary>
public enum GuestIsa
{
    Rv64 = 0,
    Rv32 = 1,
}
