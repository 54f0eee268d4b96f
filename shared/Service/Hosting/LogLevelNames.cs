using Microsoft.Extensions.Logging;

namespace Disagg.Service.Hosting;

/// <summary>
/// The console formatter's four-letter level names ("info", "warn", "fail"...): the services' and the daemon's logs
/// keep the form their readers (tests, `disagg service log`, people) already parse.
/// </summary>
public static class LogLevelNames
{
    public static string Short(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}
