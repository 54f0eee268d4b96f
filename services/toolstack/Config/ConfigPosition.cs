namespace Disagg.Toolstack.Config;

/// <summary>Where in a config file something stands (1-based line and column), for messages a user can act on.</summary>
public readonly record struct ConfigPosition(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}
