namespace Disagg.Abi.Io;

/// <summary>blkif operations (io/blkif.h BLKIF_OP_*).</summary>
public enum BlkifOperation : byte
{
    Read = 0,
    Write = 1,
    WriteBarrier = 2,
    FlushDiskcache = 3,
    Discard = 5,
    Indirect = 6,
}
