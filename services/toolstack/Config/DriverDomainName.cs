namespace Disagg.Toolstack.Config;

/// <summary>
/// The name of a service domain as configs and `service add` spell it (backend=NAME): it becomes a
/// state-dir folder and a log file name, so it is kept to what is safe in both.
/// </summary>
public static class DriverDomainName
{
    public const string Rule = "must be 1-32 lowercase letters, digits or '-', starting with a letter or digit";

    public static bool Valid(string name) =>
        name.Length is > 0 and <= 32 && LowerOrDigit(name[0]) && name.All(c => LowerOrDigit(c) || c == '-');

    private static bool LowerOrDigit(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
}
