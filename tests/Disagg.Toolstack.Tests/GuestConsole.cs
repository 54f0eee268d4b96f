using System.Globalization;

namespace Disagg.Toolstack.Tests;

/// <summary>Typing into a guest's UART through `disagg console NAME`, as a user does (HVM guests: their qemu-dm's ns16550a).</summary>
internal static class GuestConsole
{
    /// <summary>One `disagg console NAME` session that types the line and Enter, stays two seconds and ends with its input.</summary>
    public static void TypeOnce(TestHost host, string name, string line, bool domainEnds = false)
    {
        var r = HostProcess.Run(
            "sh",
            ["-c", "(printf '%s\\r' \"$1\"; sleep 2) | \"$0\" console \"$2\" --state-dir \"$3\"", RepoPaths.Program("disagg"), line, name, host.Dir],
            TestHost.Bound);
        Assert.True(r.ExitCode == 0 || domainEnds, string.Create(CultureInfo.InvariantCulture, $"disagg console: {r}")); // the domain going ends a console with an error
    }

    /// <summary>Types a line until <paramref name="answered"/> holds of the console log (a line typed while qemu-dm restarts is dropped).</summary>
    public static void Typed(TestHost host, string name, string line, Func<string, bool> answered, double seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        do
        {
            TypeOnce(host, name, line);
            if (Eventually.Holds(() => answered(host.ConsoleLog(name)), 15))
            {
                return;
            }
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"'{line}' was never answered: " + host.ConsoleLog(name));
    }

    public static int Count(string text, string what)
    {
        var n = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }
}
