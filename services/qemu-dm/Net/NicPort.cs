using Disagg.Netif;
using Disagg.QemuDm.Hosting;
using Disagg.Virtio.Net;
using Microsoft.Extensions.Logging;

namespace Disagg.QemuDm.Net;

/// <summary>
/// The switch side of one emulated NIC: frames the guest sends through its virtio-net device go out on the
/// NIC's vif (a <see cref="Netfront"/> of qemu-dm's domain on netback), frames netback delivers go into the
/// guest's receive buffers. Until the vif is connected (at start, while <see cref="NicConnector"/> runs the
/// handshake) frames are dropped and counted: Ethernet is lossy, and the guest's stack retries.
/// A frame netback would refuse (over the vif's MTU, or not even an Ethernet header) is dropped here, counted
/// in <see cref="Oversized"/>; a frame from another source MAC goes to netback, whose anti-spoofing is the rule
/// that holds (qemu-dm is not trusted with it) and counts it. Everything runs on qemu-dm's one device thread.
/// </summary>
internal sealed class NicPort : IVirtioNetPort
{
    private readonly FrameSink _deliver;
    private readonly ILogger _log;
    private Netfront? _vif;
    private int _pending;

    public NicPort(string name, ILogger log)
    {
        Name = name;
        _log = log;
        _deliver = Deliver;
    }

    public string Name { get; }

    /// <summary>The guest's device, set once when the device is built (it takes this port in its constructor).</summary>
    public VirtioNetDevice? Device { get; set; }

    /// <summary>The connected vif, or null while the handshake runs. Set by the connector, read by the device thread.</summary>
    public Netfront? Vif
    {
        get => Volatile.Read(ref _vif);
        set => Volatile.Write(ref _vif, value);
    }

    /// <summary>Guest frames dropped for being longer than the vif's MTU allows (or shorter than an Ethernet header).</summary>
    public long Oversized { get; private set; }

    /// <summary>Guest frames dropped because the vif was not connected or its tx ring was full.</summary>
    public long NoRoom { get; private set; }

    public long Sent { get; private set; }

    public long Received { get; private set; }

    /// <summary>The last frame size dropped as oversized, for the log line.</summary>
    public int LastOversize { get; private set; }

    public void Transmit(ReadOnlySpan<byte> frame)
    {
        var vif = Vif;
        if (frame.Length < 14 || (vif is not null && frame.Length > vif.MaxFrame) || frame.Length > Disagg.Ring.RingGeometry.PageSize)
        {
            Oversized++;
            LastOversize = frame.Length;
            if ((Oversized & (Oversized - 1)) == 0)
            {
                Log.NicOversized(_log, Name, frame.Length, Oversized); // the 1st, 2nd, 4th, 8th...: a flood costs a few lines
            }

            return;
        }

        if (vif is null || !vif.TrySend(frame))
        {
            NoRoom++;
            return;
        }

        Sent++;
        _pending++;
    }

    public void ReceiveBuffersPosted()
    {
        // Nothing to do here: Pump offers the frame that waited first, right after the access that posted buffers.
    }

    /// <summary>
    /// One turn on the device thread after the ioreqs were served: publish what the guest sent, hand netback's
    /// frames to the guest while it has buffers, take tx answers. True if something moved.
    /// </summary>
    public bool Pump()
    {
        var vif = Vif;
        if (vif is null)
        {
            return false;
        }

        var moved = _pending > 0;
        if (_pending > 0)
        {
            vif.Flush();
            _pending = 0;
        }

        moved |= vif.Receive(_deliver) > 0;
        moved |= vif.ReapTx() > 0;
        return moved;
    }

    /// <summary>ring.h's final check before the device thread sleeps: false when netback will notify us.</summary>
    public bool HasWork() => Vif is { } vif && vif.PrepareToWait();

    private bool Deliver(ReadOnlySpan<byte> frame)
    {
        if (Device is not { } device)
        {
            return true;
        }

        var result = device.TryDeliver(frame);
        if (result == DeliveryResult.Delivered)
        {
            Received++;
        }

        return result != DeliveryResult.NoBuffer;
    }
}
