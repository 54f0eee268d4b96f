namespace Disagg.Toolstack.Supervision;

/// <summary>How to run one service domain: its program, arguments, environment and how to tell it is serving.</summary>
public sealed record ServiceSpec
{
    public required string Name { get; init; }

    public required string Program { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Domain id the service is registered under with the kernel.</summary>
    public int DomainId { get; init; }

    /// <summary>Where its stdout and stderr go (appended across restarts).</summary>
    public string? LogFile { get; init; }

    /// <summary>Answers true once the service serves (for example its socket accepts). Null: started means ready.</summary>
    public Func<CancellationToken, Task<bool>>? ReadinessProbe { get; init; }

    /// <summary>The service serves once it prints a stdout line starting with this (as `disagg-kernel serve` prints "ready ..."). Null: no such line.</summary>
    public string? ReadyLinePrefix { get; init; }

    public RestartPolicy Restart { get; init; } = RestartPolicy.Default;

    /// <summary>Least privilege for its process (null: it runs with the daemon's rights, as a config's extra service does).</summary>
    public ServiceSandbox? Sandbox { get; init; }
}
