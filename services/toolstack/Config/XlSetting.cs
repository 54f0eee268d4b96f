namespace Disagg.Toolstack.Config;

/// <summary>One KEY = VALUE (or KEY += VALUE) statement, with where it stood.</summary>
public sealed record XlSetting(string Key, XlValue Value, ConfigPosition Position);
