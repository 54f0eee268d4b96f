namespace Disagg.Toolstack.Supervision;

/// <summary>A service's stdout and stderr, line by line, appended to its log file with a timestamp.</summary>
internal sealed class ServiceLogWriter : IDisposable
{
    private readonly object _lock = new();
    private StreamWriter? _writer;

    public ServiceLogWriter(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    public void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            _writer?.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {line}");
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }
}
