namespace Disagg.DomainImage;

/// <summary>The guest's ISA width, as XLEN. An rv64 host restores both; an rv32 host refuses an rv64 image.</summary>
public enum ImageIsa : byte
{
    Rv32 = 32,
    Rv64 = 64,
}
