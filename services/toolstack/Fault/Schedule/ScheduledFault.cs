namespace Disagg.Toolstack.Fault.Schedule;

/// <summary>One fault of a schedule: at AtMs after the run's start, Kind against Target; a stop is held for HoldMs before SIGCONT.</summary>
public sealed record ScheduledFault(int Index, long AtMs, string Target, FaultKind Kind, long HoldMs);
