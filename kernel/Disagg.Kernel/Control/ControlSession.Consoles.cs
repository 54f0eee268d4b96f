using System.Collections.Concurrent;
using Disagg.Control.Messages;

namespace Disagg.Kernel.Control;

/// <summary>
/// Console notices (<see cref="WatchConsoles"/>): one <see cref="ConsoleActivity"/> per source until this
/// connection reads that source again. The flag is cleared before the read is served, so bytes appended
/// between the clear and the read raise a new notice (at worst a read that finds nothing), never a lost one.
/// </summary>
internal sealed partial class ControlSession
{
    /// <summary>Sources with a notice sent and not yet read; the message log is <see cref="ConsoleActivity.MessageLog"/>.</summary>
    private readonly ConcurrentDictionary<int, byte> _noticed = new();
    private bool _watchingConsoles;

    private OkReply StartWatchingConsoles()
    {
        if (!_watchingConsoles)
        {
            _watchingConsoles = true;
            server.Hypervisor.ConsoleWritten += OnConsoleWritten;
        }

        return new OkReply();
    }

    private void StopWatchingConsoles()
    {
        if (_watchingConsoles)
        {
            server.Hypervisor.ConsoleWritten -= OnConsoleWritten;
        }
    }

    /// <summary>On a vCPU's thread, after each append: a lookup that finds the flag set is all a busy console costs.</summary>
    private void OnConsoleWritten(int source)
    {
        if (!_noticed.ContainsKey(source) && _noticed.TryAdd(source, 0))
        {
            _outbox.Writer.TryWrite(new Outgoing(new ConsoleActivity(source), null));
        }
    }

    /// <summary>This connection reads <paramref name="source"/> now: the next append notifies again.</summary>
    private void Rearm(int source) => _noticed.TryRemove(source, out _);

    private MessageLogChunk ReadLogRearmed(ReadMessageLog r)
    {
        Rearm(ConsoleActivity.MessageLog);
        return DomainRequests.ReadLog(server.Hypervisor, r);
    }

    private ConsoleChunk ReadConsoleRearmed(ReadConsole c)
    {
        Rearm(c.DomainId);
        return DomainRequests.ReadConsole(server.Hypervisor, c);
    }
}
