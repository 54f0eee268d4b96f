using Disagg.Service.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Disagg.Toolstack.Host;

/// <summary>
/// The daemon log's line: "time level: message". The simple console formatter adds the logger's
/// category and the event id in brackets — for source-generated messages a hash of the method name,
/// which an operator reads as a pid next to "pid 1234" in the text. The message already says which
/// part of the host speaks.
/// </summary>
internal sealed class DaemonLogFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "disagg";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }

        textWriter.Write(DateTimeOffset.Now.ToString("yyyy-MM-ddTHH:mm:ss.fff ", System.Globalization.CultureInfo.InvariantCulture));
        textWriter.Write(LogLevelNames.Short(logEntry.LogLevel));
        textWriter.Write(": ");
        textWriter.Write(message.ReplaceLineEndings(" "));
        if (logEntry.Exception is { } e)
        {
            textWriter.Write(" | ");
            textWriter.Write(e.ToString().ReplaceLineEndings(" | "));
        }

        textWriter.Write('\n');
    }
}
