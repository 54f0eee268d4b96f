namespace Disagg.Kernel.Core.Ioreq;

/// <summary>What a vCPU's ioreq slot says when the vCPU looks at it.</summary>
public enum IoreqAnswer
{
    /// <summary>READY or INPROCESS: the device model has not answered; the vCPU keeps waiting, off its pCPU.</summary>
    Waiting,

    /// <summary>IORESP_READY with a well-formed answer: the access completes.</summary>
    Answered,

    /// <summary>The device model broke the protocol (a state it may not set, the request rewritten, data wider than the access).</summary>
    Refused,
}
