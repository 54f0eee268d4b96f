using Disagg.Service.Hosting;
using Microsoft.Extensions.Logging;

namespace Disagg.Kernel.Control.Tests;

/// <summary>
/// The service domains' log (shared/Service/Hosting/StderrLineLogger): one line per event in the console logger's
/// single-line form, so NAME.log and a service's last words read as they did with AddConsole.
/// </summary>
public sealed class ServiceLogTests
{
    [Fact]
    public void AnEventIsOneLineInTheConsoleForm()
    {
        var output = new StringWriter();
        using var provider = new StderrLineLogger(LogLevel.Information, output);
        var log = provider.CreateLogger("netback");
        log.Log(LogLevel.Information, new EventId(3), "vif 1/0 connected", null, (s, _) => s);
        log.Log(LogLevel.Error, new EventId(7), "two\nlines", new InvalidOperationException("why"), (s, _) => s);
        var lines = output.ToString().Split('\n');
        Assert.Equal("info: netback[3] vif 1/0 connected", lines[0]);
        Assert.StartsWith("fail: netback[7] two lines System.InvalidOperationException: why", lines[1], StringComparison.Ordinal);
        Assert.Equal(3, lines.Length); // two events, two lines (and the last newline)
        Assert.Equal("", lines[2]);
    }

    [Fact]
    public void EventsBelowTheMinimumAreNotWritten()
    {
        var output = new StringWriter();
        using var provider = new StderrLineLogger(LogLevel.Information, output);
        var log = provider.CreateLogger("xenstored");
        Assert.False(log.IsEnabled(LogLevel.Debug));
        log.Log(LogLevel.Debug, default, "noise", null, (s, _) => s);
        log.Log(LogLevel.Warning, default, "kept", null, (s, _) => s);
        Assert.Equal("warn: xenstored[0] kept\n", output.ToString());
    }
}
