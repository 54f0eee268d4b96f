namespace Disagg.Toolstack.Config;

/// <summary>A config file that cannot be used: names the file, line and column, and why.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(ConfigPosition position, string reason)
        : base($"{position}: {reason}")
    {
        Position = position;
        Reason = reason;
    }

    public ConfigPosition Position { get; }

    public string Reason { get; }
}
