namespace Disagg.Control.Messages;

/// <summary>mem-set (TargetKiB: the balloon target the guest is asked to reach) and mem-max (MaxKiB: the hard limit). Null leaves one alone.</summary>
public sealed record SetMemory(int DomainId, long? TargetKiB, long? MaxKiB) : ControlMessage;
