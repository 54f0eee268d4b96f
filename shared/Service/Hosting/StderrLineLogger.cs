using System.Text;
using Microsoft.Extensions.Logging;

namespace Disagg.Service.Hosting;

/// <summary>
/// A service domain's log: one line per event on stderr, in the console logger's single-line form
/// (<c>info: netback[3] vif 1/0 connected</c>), written synchronously when the event happens. The supervisor reads
/// stderr into NAME.log and keeps the last lines as the service's last words.
/// <para>
/// Why not <c>AddConsole</c>: the console provider brings options monitors for itself and three formatters, a
/// configuration binder and a writer thread; under NativeAOT the container builds each of those closed generic types
/// through the runtime type loader at every start, a large part of a restart's CPU (docs/PERFORMANCE.md, issue 17).
/// A service logs a few lines per start and per device, never per frame, so a synchronous write costs nothing that
/// matters and the line is on stderr before a crash can lose it.
/// </para>
/// </summary>
public sealed class StderrLineLogger : ILoggerProvider
{
    private readonly TextWriter _out;
    private readonly LogLevel _minimum;

    public StderrLineLogger(LogLevel minimum = LogLevel.Information, TextWriter? output = null)
    {
        _minimum = minimum;
        _out = output ?? Console.Error; // Console's writers are synchronized: one Write per line keeps lines whole
    }

    public ILogger CreateLogger(string categoryName) => new CategoryLogger(this, categoryName);

    public void Dispose()
    {
    }

    private void Write(string category, LogLevel level, EventId eventId, string message, Exception? exception)
    {
        var line = new StringBuilder(category.Length + message.Length + 24)
            .Append(LogLevelNames.Short(level)).Append(": ").Append(category).Append('[').Append(eventId.Id).Append("] ")
            .Append(message.ReplaceLineEndings(" "));
        if (exception is not null)
        {
            line.Append(' ').Append(exception.ToString().ReplaceLineEndings(" "));
        }

        _out.Write(line.Append('\n').ToString());
    }

    private sealed class CategoryLogger(StderrLineLogger provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, eventId, formatter(state, exception), exception);
            }
        }
    }
}
