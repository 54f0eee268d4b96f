namespace Disagg.Toolstack.Protocol;

/// <summary>
/// `disagg console DOMAIN`: after the OkReply, the daemon pushes <see cref="ConsoleOutput"/> on
/// this connection until the client closes it or the domain goes (<see cref="ConsoleClosed"/>).
/// ReplayBytes of the domain's console log are sent first, so an attach shows recent output.
/// With Follow false (`disagg console --batch`) the daemon reads every console source once, sends
/// the log's tail and closes.
/// </summary>
internal sealed record ConsoleAttachRequest(string Domain, int ReplayBytes, bool Follow = true) : DaemonMessage;

/// <summary>Keystrokes for the guest, written into its PV console ring's in-queue.</summary>
internal sealed record ConsoleInput(byte[] Data) : DaemonMessage;

/// <summary>Guest console bytes; Dropped counts bytes this client lost because it read too slowly.</summary>
internal sealed record ConsoleOutput(byte[] Data, long Dropped) : DaemonMessage;

/// <summary>The console ended (domain destroyed, host going down).</summary>
internal sealed record ConsoleClosed(string Reason) : DaemonMessage;
