namespace Disagg.Xenbus.Backend;

/// <summary>What a backend does next with one device, decided by <see cref="HandshakeRules.Next"/>.</summary>
public enum HandshakeStep
{
    /// <summary>Nothing changed that concerns us (a repeated or coalesced watch event, our own echo).</summary>
    Stay = 0,

    /// <summary>Read the frontend's keys; connect if not connected, or reconnect if they are new.</summary>
    Connect = 1,

    /// <summary>The frontend re-initialised the ring it had connected: disconnect and connect again, keys new or not.</summary>
    Reconnect = 2,

    /// <summary>Disconnect if connected; publish the features and InitWait (a frontend starting, or starting over).</summary>
    Offer = 3,

    /// <summary>Disconnect; Closing (the frontend is closing).</summary>
    Closing = 4,

    /// <summary>Disconnect; Closed (the frontend closed or went, or the toolstack asked us to let go).</summary>
    Closed = 5,
}
