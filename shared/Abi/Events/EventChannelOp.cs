namespace Disagg.Abi.Events;

/// <summary>event_channel_op sub-operations (event_channel.h).</summary>
public enum EventChannelOp : uint
{
    BindInterdomain = 0,
    BindVirq = 1,
    BindPirq = 2,
    Close = 3,
    Send = 4,
    Status = 5,
    AllocUnbound = 6,
    BindIpi = 7,
    BindVcpu = 8,
    Unmask = 9,
    Reset = 10,
}
