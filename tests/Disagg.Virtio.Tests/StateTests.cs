using Disagg.DiskImage;
using Disagg.Virtio.Blk;
using Disagg.Virtio.Device;
using Disagg.Virtio.Queue;
using Disagg.Virtio.Rng;
using Disagg.Virtio.State;
using Disagg.Virtio.Tests.Driver;
using Disagg.Virtio.Transport;
using R = Disagg.Virtio.Transport.VirtioMmioRegister;

namespace Disagg.Virtio.Tests;

/// <summary>The saved record: a device model replaced mid-stream (SIGKILL, save/restore) carries on, re-executing what it took but never completed.</summary>
public sealed class StateTests
{
    private sealed class StateFileObserver(string path, VirtioMmioTransport? transport = null) : IVirtioTransportObserver
    {
        public VirtioMmioTransport? Transport { get; set; } = transport;

        public int Writes { get; private set; }

        public void StateChanged()
        {
            if (Transport is not null)
            {
                VirtioStateFile.Write(path, Transport.SaveState());
                Writes++;
            }
        }

        public void Faulted(VirtioFault fault)
        {
        }
    }

    private static byte[] Sector(byte value) => Enumerable.Repeat(value, 512).ToArray();

    [Fact]
    public void KilledMidRequestTheRestartedDeviceReExecutesWhatHadNoCompletion()
    {
        using var dir = new TempDir();
        var path = dir.File("d.raw");
        var stateFile = dir.File("vda.state");
        DiskImages.CreateRaw(path, 1 << 20);

        // The first device model: its state file is written on every register write, as qemu-dm does.
        var observer = new StateFileObserver(stateFile);
        var dying = new FlushWatchingImage(DiskImages.Open(path, DiskImageFormat.Raw, readOnly: false)) { DieOnWrite = 2 };
        var first = new GuestDriver((ram, irq) =>
        {
            var t = new VirtioMmioTransport(new VirtioBlkDevice("vda", dying, "s"), ram, irq, observer);
            observer.Transport = t;
            return t;
        });
        var q = first.Bringup(VirtioDeviceType.Block, 1)[0];
        var writesAtSetup = observer.Writes;
        Assert.True(writesAtSetup > 0);

        var blk = new BlkGuestOver(first, q);
        Assert.Equal(VirtioBlk.StatusOk, blk.Write(0, Sector(0xa1)));
        Assert.Equal(VirtioBlk.StatusOk, blk.Write(1, Sector(0xa2)));
        Assert.Equal(writesAtSetup, observer.Writes); // I/O writes no state

        // Two more requests; the device model dies inside the first of them, after taking it.
        var s3 = blk.Enqueue(2, Sector(0xa3));
        var s4 = blk.Enqueue(3, Sector(0xa4));
        q.Publish();
        Assert.Throws<DeviceModelKilled>(q.Kick);
        Assert.Equal(2, q.UsedIdxInRam);
        dying.Dispose();

        // The restarted device model: fresh objects, the state file, the same guest RAM.
        var image = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: false);
        var device = new VirtioBlkDevice("vda", image, "s");
        var state = VirtioStateFile.Read("vda", stateFile);
        Assert.NotNull(state);
        var second = new GuestDriver(first.Ram, (ram, irq) => new VirtioMmioTransport(device, ram, irq), first.NextFree);
        second.Transport.RestoreState(state, afterRestart: true);
        second.Transport.Resume();

        Assert.Equal(2, device.Requests); // only the two without a completion ran, once each
        Assert.True(second.Wire.Asserted);
        Assert.Equal(R.InterruptUsedBuffer, second.TakeInterrupt());
        var guest = second.Reattach(q);
        Assert.Equal(4, guest.UsedIdxInRam);
        Assert.Equal(VirtioBlk.StatusOk, blk.Peek(s3));
        Assert.Equal(VirtioBlk.StatusOk, blk.Peek(s4));

        // And it goes on serving the same rings.
        var after = new BlkGuestOver(second, guest);
        Assert.Equal(VirtioBlk.StatusOk, after.Write(4, Sector(0xa5)));
        image.Dispose();
        var file = File.ReadAllBytes(path);
        for (var i = 0; i < 5; i++)
        {
            Assert.All(file.AsSpan(i * 512, 512).ToArray(), x => Assert.Equal(0xa1 + i, x));
        }
    }

    [Fact]
    public void SaveAndRestoreAtRestContinuesTheSameRings()
    {
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("rng"), ram, irq));
        var q = d.Bringup(VirtioDeviceType.Entropy, 1)[0];
        for (var i = 0; i < 5; i++)
        {
            q.Add((d.Alloc(16), 16, true));
            q.Submit();
            Assert.True(q.TryTakeUsed(out _, out _));
        }

        var bytes = VirtioStateCodec.Encode(d.Transport.SaveState());
        var saved = VirtioStateCodec.Decode("rng", bytes);
        Assert.Equal((ushort)5, saved.Queues[0].LastAvail);
        Assert.Equal((ushort)5, saved.Queues[0].UsedIdx);

        var restored = new GuestDriver(d.Ram, (ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("rng"), ram, irq), d.NextFree);
        restored.Transport.RestoreState(saved, afterRestart: false);
        restored.Transport.Resume();
        Assert.Equal(d.Transport.NegotiatedFeatures, restored.Transport.NegotiatedFeatures);
        Assert.Equal(d.Read(R.Status), restored.Read(R.Status));
        restored.Write(R.QueueSel, 0);
        Assert.Equal((uint)q.Desc, restored.Read(R.QueueDescLow));
        var guest = restored.Reattach(q);
        guest.Add((restored.Alloc(16), 16, true));
        guest.Submit();
        Assert.Equal(6, guest.UsedIdxInRam);
    }

    [Fact]
    public void ARestartLongAfterSetUpResumesFromGuestMemoryWhateverTheRecordSays()
    {
        // The record is written at set-up; the guest then completes three queues' worth of requests.
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("rng"), ram, irq));
        var q = d.Bringup(VirtioDeviceType.Entropy, 1)[0];
        var saved = VirtioStateCodec.Decode("rng", VirtioStateCodec.Encode(d.Transport.SaveState()));
        var buffer = d.Alloc(16);
        for (var i = 0; i < 3 * q.Size + 5; i++)
        {
            q.Add((buffer, 16, true));
            q.Submit();
            Assert.True(q.TryTakeUsed(out _, out _));
        }

        var restored = new GuestDriver(d.Ram, (ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("rng"), ram, irq), d.NextFree);
        restored.Transport.RestoreState(saved, afterRestart: true);
        restored.Transport.Resume();
        Assert.Null(restored.Transport.LastFault);
        var guest = restored.Reattach(q);
        guest.Add((buffer, 16, true));
        guest.Submit();
        Assert.Equal((ushort)((3 * q.Size) + 6), (ushort)guest.UsedIdxInRam);
    }

    [Fact]
    public void RestoreFindsGuestUsedIndexMoreThanAQueueAheadAndNeedsReset()
    {
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("rng"), ram, irq));
        var q = d.Bringup(VirtioDeviceType.Entropy, 1)[0];
        var saved = d.Transport.SaveState();
        Assert.True(d.Ram.TryWrite(q.Used + 2, BitConverter.GetBytes((ushort)(q.Size + 1))));
        var restored = new GuestDriver(d.Ram, (ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("rng"), ram, irq), d.NextFree);
        restored.Transport.RestoreState(saved, afterRestart: true);
        Assert.Equal(VirtioFaultReason.RestoreMismatch, restored.Transport.LastFault?.Reason);
        Assert.NotEqual(0u, restored.Read(R.Status) & (uint)DeviceStatus.DeviceNeedsReset);
    }

    [Fact]
    public void ARecordForAnotherDeviceOrWithBadValuesIsRefused()
    {
        using var dir = new TempDir();
        DiskImages.CreateRaw(dir.File("x.raw"), 1 << 20);
        using var image = DiskImages.Open(dir.File("x.raw"), DiskImageFormat.Raw, readOnly: false);
        var rng = new GuestDriver((ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("rng"), ram, irq));
        rng.Bringup(VirtioDeviceType.Entropy, 1);
        var state = rng.Transport.SaveState();
        var blk = new GuestDriver((ram, irq) => new VirtioMmioTransport(new VirtioBlkDevice("vda", image, "s"), ram, irq));

        Assert.Contains("device id 4", Assert.Throws<VirtioStateException>(() => blk.Transport.RestoreState(state, true)).Message);
        Assert.Contains("vda", Assert.Throws<VirtioStateException>(() => blk.Transport.RestoreState(state with { DeviceId = 2, Queues = [] }, true)).Message);
        Assert.Throws<VirtioStateException>(() => rng.Transport.RestoreState(state with { DriverFeatures = 1UL << 40 | VirtioFeature.Version1 }, true));
        Assert.Throws<VirtioStateException>(() => rng.Transport.RestoreState(state with { Queues = [state.Queues[0] with { Size = 4096 }] }, true));

        var bytes = VirtioStateCodec.Encode(state);
        var flipped = (byte[])bytes.Clone();
        flipped[60] ^= 1;
        Assert.Contains("checksum", Assert.Throws<VirtioStateException>(() => VirtioStateCodec.Decode("rng", flipped)).Reason);
        Assert.Throws<VirtioStateException>(() => VirtioStateCodec.Decode("rng", bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Throws<VirtioStateException>(() => VirtioStateCodec.Decode("rng", bytes.AsSpan(0, 10)));
        var version = (byte[])bytes.Clone();
        version[4] = 9;
        Assert.Contains("format version 9", Assert.Throws<VirtioStateException>(() => VirtioStateCodec.Decode("rng", version)).Reason);
    }

    [Fact]
    public void StateFileIsReplacedWholeAndAbsentMeansFirstStart()
    {
        using var dir = new TempDir();
        var path = dir.File("s");
        Assert.Null(VirtioStateFile.Read("rng", path));
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("rng"), ram, irq));
        VirtioStateFile.Write(path, d.Transport.SaveState());
        d.Bringup(VirtioDeviceType.Entropy, 1);
        VirtioStateFile.Write(path, d.Transport.SaveState());
        Assert.Equal(d.Transport.SaveState().Status, VirtioStateFile.Read("rng", path)!.Status);
        Assert.False(File.Exists(path + ".tmp"));
    }

    /// <summary>BlkGuest's request building over an existing driver and queue.</summary>
    private sealed class BlkGuestOver(GuestDriver driver, GuestQueue queue)
    {
        public ulong Enqueue(ulong sector, byte[] data)
        {
            var header = driver.Alloc(16);
            Assert.True(driver.Ram.TryWrite(header, BitConverter.GetBytes(VirtioBlk.TypeOut)));
            Assert.True(driver.Ram.TryWrite(header + 8, BitConverter.GetBytes(sector)));
            var payload = driver.Alloc((uint)data.Length);
            Assert.True(driver.Ram.TryWrite(payload, data));
            var status = driver.Alloc(1, 1);
            Assert.True(driver.Ram.TryWrite(status, new byte[] { 0xff }));
            queue.Add((header, 16, false), (payload, (uint)data.Length, false), (status, 1, true));
            return status;
        }

        public byte Write(ulong sector, byte[] data)
        {
            var status = Enqueue(sector, data);
            queue.Submit();
            Assert.True(queue.TryTakeUsed(out _, out _));
            return Peek(status);
        }

        public byte Peek(ulong status)
        {
            var b = new byte[1];
            Assert.True(driver.Ram.TryRead(status, b));
            return b[0];
        }
    }
}
