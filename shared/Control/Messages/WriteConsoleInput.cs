namespace Disagg.Control.Messages;

/// <summary>
/// Keystrokes for a domain's SBI console (legacy getchar, DBCN read), as an unmodified guest reads them
/// before it has a console driver. Control domain only. The kernel keeps a bounded queue: the reply says
/// how many bytes it took; the rest is the sender's to retry.
/// </summary>
public sealed record WriteConsoleInput(int DomainId, byte[] Data) : ControlMessage;

/// <summary>Reply to <see cref="WriteConsoleInput"/>: Bytes of the data were queued.</summary>
public sealed record ConsoleInputAccepted(int Bytes) : ControlMessage;
