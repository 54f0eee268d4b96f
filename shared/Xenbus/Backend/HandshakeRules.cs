using Disagg.Abi.Io;

namespace Disagg.Xenbus.Backend;

/// <summary>
/// The backend's side of the xenbus handshake (spec §7, io/xenbus.h) as one decision per device: given the
/// frontend's state now and at the last look, whether the toolstack asked us to detach, whether we hold a
/// connection and the device type's <see cref="RestartRule"/>, what to do. Pure, so every transition is tested
/// without processes; <see cref="XenbusBackend{TDevice, TConnection}"/> carries the steps out.
/// </summary>
public static class HandshakeRules
{
    public static HandshakeStep Next(XenbusState frontend, XenbusState lastFrontend, bool detaching, bool connected, RestartRule rule)
    {
        if (detaching)
        {
            return HandshakeStep.Closed; // the toolstack wrote Closing to our state node (libxl's detach): let go, say Closed
        }

        return frontend switch
        {
            // Connected -> Initialised: the frontend re-initialised its ring (its resume), the keys may be the same.
            XenbusState.Initialised => connected && lastFrontend == XenbusState.Connected ? HandshakeStep.Reconnect : HandshakeStep.Connect,

            // Connected and we hold nothing: our killed predecessor served it. Resume its rings, or wait in
            // InitWait (written when the device was set up) for the frontend to initialise a fresh one.
            XenbusState.Connected => connected || rule == RestartRule.ResumeRings ? HandshakeStep.Connect : HandshakeStep.Stay,
            XenbusState.Closing => HandshakeStep.Closing,

            // Unknown: the frontend's directory went (its domain died); the toolstack removes ours next.
            XenbusState.Closed or XenbusState.Unknown => HandshakeStep.Closed,

            // Initialising, InitWait (and the unused Reconfiguring states): a frontend starting, or starting over.
            _ => HandshakeStep.Offer,
        };
    }
}
