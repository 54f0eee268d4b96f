namespace Disagg.Abi.Io;

/// <summary>enum xenbus_state (io/xenbus.h): the frontend/backend handshake, written as decimal strings in xenstore.</summary>
public enum XenbusState
{
    Unknown = 0,
    Initialising = 1,
    InitWait = 2,
    Initialised = 3,
    Connected = 4,
    Closing = 5,
    Closed = 6,
    Reconfiguring = 7,
    Reconfigured = 8,
}
