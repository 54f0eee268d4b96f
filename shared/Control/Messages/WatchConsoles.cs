namespace Disagg.Control.Messages;

/// <summary>
/// Asks for <see cref="ConsoleActivity"/> on this connection from now on: the kernel says when a domain's SBI
/// console or the message log has bytes this connection has not read, so a console backend waits instead of
/// polling (Xen's VIRQ_CON_RING for the message log). Control domain only.
/// </summary>
public sealed record WatchConsoles : ControlMessage;

/// <summary>
/// Pushed (Id 0): new bytes in domain <see cref="DomainId"/>'s SBI console, or in the message log when it is
/// <see cref="MessageLog"/>. Edge-triggered per connection: after one notice for a source the next comes only
/// once the connection has read that source again (ReadConsole / ReadMessageLog), so a guest printing a byte
/// at a time costs one notice per read, not one per byte. A reader drains the source until it is empty.
/// </summary>
public sealed record ConsoleActivity(int DomainId) : ControlMessage
{
    /// <summary>The <see cref="DomainId"/> that stands for the kernel's message log.</summary>
    public const int MessageLog = -1;
}
