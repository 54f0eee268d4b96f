namespace Disagg.Abi.Hvm;

/// <summary>An ioreq slot's state (public/hvm/ioreq.h STATE_*): who owns the slot now.</summary>
public enum IoreqState : byte
{
    /// <summary>STATE_IOREQ_NONE: free; the vCPU is not waiting.</summary>
    None = 0,

    /// <summary>STATE_IOREQ_READY: the hypervisor filled it; the device model's turn.</summary>
    Ready = 1,

    /// <summary>STATE_IOREQ_INPROCESS: the device model took it.</summary>
    InProcess = 2,

    /// <summary>STATE_IORESP_READY: the device model answered (data for a read); the hypervisor's turn.</summary>
    ResponseReady = 3,
}
