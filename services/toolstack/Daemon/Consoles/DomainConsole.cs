namespace Disagg.Toolstack.Daemon.Consoles;

/// <summary>One guest's console (by name, across reboots): its log file and its attached clients. Callers hold the hub's lock.</summary>
internal sealed class DomainConsole(string name, string logPath)
{
    private readonly FileStream _log = new(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
    private readonly List<ConsoleSubscriber> _subscribers = [];

    public string Name { get; } = name;

    public void Write(ReadOnlySpan<byte> text)
    {
        _log.Write(text);
        _log.Flush();
        foreach (var s in _subscribers)
        {
            s.Post(text);
        }
    }

    /// <summary>A new client, first sent up to <paramref name="replayBytes"/> of the log's tail.</summary>
    public ConsoleSubscriber Attach(int replayBytes)
    {
        var subscriber = new ConsoleSubscriber();
        if (replayBytes > 0)
        {
            using var read = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var start = Math.Max(0, read.Length - replayBytes);
            read.Position = start;
            var tail = new byte[read.Length - start];
            read.ReadExactly(tail);
            subscriber.Post(tail);
        }

        _subscribers.Add(subscriber);
        return subscriber;
    }

    public void Detach(ConsoleSubscriber subscriber) => _subscribers.Remove(subscriber);

    public void Close(string reason)
    {
        foreach (var s in _subscribers)
        {
            s.Close($"domain '{Name}': {reason}");
        }

        _subscribers.Clear();
        _log.Dispose();
    }
}
