using Spectre.Console;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// A wait the user sees: a Spectre spinner with what is going on while a verb waits on a terminal
/// (a service coming up, a swap, a backend connecting); nothing on a pipe, where only the result line
/// belongs.
/// </summary>
internal static class Waiting
{
    public static bool Interactive => !Console.IsOutputRedirected && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public static async Task<T> WhileAsync<T>(string what, Func<Task<T>> wait)
    {
        if (!Interactive)
        {
            return await wait().ConfigureAwait(false);
        }

        return await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync(what + "...", _ => wait()).ConfigureAwait(false);
    }
}
