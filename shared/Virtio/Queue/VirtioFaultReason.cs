namespace Disagg.Virtio.Queue;

/// <summary>
/// Why a device stopped serving its guest and set DEVICE_NEEDS_RESET (virtio 1.x §2.1.2). Each names a
/// driver error the spec forbids; they reach logs and counters. Append-only, explicit values.
/// </summary>
public enum VirtioFaultReason
{
    /// <summary>avail.idx moved more than the queue size past the last entry the device took.</summary>
    AvailIndexJump = 1,

    /// <summary>A head or next index outside the descriptor table (§2.7.5).</summary>
    DescriptorIndexOutOfRange = 2,

    /// <summary>A chain longer than its table: it loops (§2.7.5.2: no chain longer than the queue size).</summary>
    ChainLoop = 3,

    /// <summary>A descriptor table, ring or buffer that is not guest RAM.</summary>
    OutsideRam = 4,

    /// <summary>addr + len wraps 2^64, or a chain's total length does not fit the used ring's u32.</summary>
    LengthOverflow = 5,

    /// <summary>A device-readable descriptor after a device-writable one (§2.7.4.2), or buffers of the wrong direction for the queue.</summary>
    WrongDirection = 6,

    /// <summary>INDIRECT without VIRTIO_F_INDIRECT_DESC, with NEXT, inside an indirect table, or a table whose length is not a non-empty multiple of 16 (§2.7.5.3.1).</summary>
    BadIndirect = 7,

    /// <summary>A chain the device's protocol cannot parse (virtio-blk without header or status byte, a transmit buffer shorter than its header).</summary>
    MalformedRequest = 8,

    /// <summary>QueueReady with a size that is not a power of two up to QueueNumMax, or misaligned ring addresses (§2.7, §4.2.2).</summary>
    BadQueueSetup = 9,

    /// <summary>After a restore, the used index in guest memory is not within a queue size of the saved one.</summary>
    RestoreMismatch = 10,
}
