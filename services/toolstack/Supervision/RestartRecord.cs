namespace Disagg.Toolstack.Supervision;

/// <summary>
/// One restart: when the old process died, why, how long until the new one served, and how much of
/// that was the policy's backoff. Planned: a restart or swap that was asked for, not a crash.
/// </summary>
public sealed record RestartRecord(string Service, DateTimeOffset DiedAt, string Cause, TimeSpan Downtime, TimeSpan Backoff = default, bool Planned = false);
