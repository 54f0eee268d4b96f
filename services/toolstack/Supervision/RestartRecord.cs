namespace Disagg.Toolstack.Supervision;

/// <summary>One restart: when the old process died, why, and how long until the new one served.</summary>
public sealed record RestartRecord(string Service, DateTimeOffset DiedAt, string Cause, TimeSpan Downtime);
