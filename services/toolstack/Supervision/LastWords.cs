namespace Disagg.Toolstack.Supervision;

/// <summary>
/// The last few lines a process wrote to stderr, kept so that a program that dies before it is ready
/// (a swap to a broken binary, a missing runtime) is reported with its own error, not only a signal
/// or an exit code. Bounded: a chatty process cannot grow the daemon.
/// </summary>
internal sealed class LastWords
{
    private const int MaxLines = 3;
    private const int MaxLineLength = 300;
    private readonly Queue<string> _lines = new();

    public void Add(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }

        lock (_lines)
        {
            _lines.Enqueue(line.Length > MaxLineLength ? line[..MaxLineLength] + "..." : line.Trim());
            while (_lines.Count > MaxLines)
            {
                _lines.Dequeue();
            }
        }
    }

    /// <summary>The lines joined with " / ", or "" when the process said nothing.</summary>
    public override string ToString()
    {
        lock (_lines)
        {
            return string.Join(" / ", _lines);
        }
    }
}
