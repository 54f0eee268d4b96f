using System.Buffers.Binary;
using Disagg.DiskImage;
using Disagg.Virtio.Blk;
using Disagg.Virtio.Device;
using Disagg.Virtio.Net;
using Disagg.Virtio.Queue;
using Disagg.Virtio.Rng;
using Disagg.Virtio.Tests.Driver;
using Disagg.Virtio.Transport;
using FsCheck.Xunit;

namespace Disagg.Virtio.Tests;

/// <summary>
/// Random descriptor tables, indirect tables and avail rings, served by each device: no exception escapes,
/// the device either completes chains or stops with DEVICE_NEEDS_RESET, and it never touches guest memory
/// that neither the rings nor a descriptor named (never writes to anything but the used ring and
/// device-writable buffers).
/// </summary>
public sealed class QueueFuzzProperties : IDisposable
{
    private const ushort Size = 16;
    private const uint PoolBytes = 64 * 1024;
    private const uint TableBytes = 16 * 1024;
    private readonly TempDir _dir = new();
    private readonly IDiskImage _image;

    public QueueFuzzProperties()
    {
        DiskImages.CreateRaw(_dir.File("fuzz.raw"), 1 << 20);
        _image = DiskImages.Open(_dir.File("fuzz.raw"), DiskImageFormat.Raw, readOnly: false);
    }

    public void Dispose()
    {
        _image.Dispose();
        _dir.Dispose();
    }

    [Property(MaxTest = 400)]
    public void RandomRingsNeverThrowAndNeverTouchMemoryOutsideTheChains(int seed, byte kind) => Serve(seed, kind);

    [Fact]
    public void TheGeneratorReachesCompletionsAndMostFaultReasons()
    {
        // A fuzz that only ever hits the first check proves little: over fixed seeds, chains complete and
        // the walker's and devices' checks each fire.
        var reasons = new HashSet<VirtioFaultReason>();
        var completed = 0;
        for (var seed = 0; seed < 600; seed++)
        {
            var (used, fault) = Serve(seed, (byte)seed);
            completed += used;
            if (fault is not null)
            {
                reasons.Add(fault.Reason);
            }
        }

        Assert.True(completed > 80, $"{completed} chains completed");
        VirtioFaultReason[] expected =
        [
            VirtioFaultReason.DescriptorIndexOutOfRange, VirtioFaultReason.ChainLoop, VirtioFaultReason.OutsideRam,
            VirtioFaultReason.WrongDirection, VirtioFaultReason.BadIndirect, VirtioFaultReason.AvailIndexJump,
            VirtioFaultReason.MalformedRequest, VirtioFaultReason.LengthOverflow,
        ];
        Assert.Empty(expected.Except(reasons));
    }

    private (int Used, VirtioFault? Fault) Serve(int seed, byte kind)
    {
        var random = new Random(seed);
        RecordingMemory? recorder = null;
        IVirtioDevice device = (kind % 3) switch
        {
            0 => new VirtioRngDevice("rng"),
            1 => new VirtioBlkDevice("blk", _image, "fuzz"),
            _ => new VirtioNetDevice("net", [2, 0, 0, 0, 0, 1], new FramePort()),
        };
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(device, recorder = new RecordingMemory(ram), irq), ramBytes: 1 << 20);
        var offered = d.Probe(device.Type);
        Assert.True(d.Negotiate(offered & ~(random.Next(4) == 0 ? VirtioFeature.EventIdx : 0)));
        var queueIndex = device.Type == VirtioDeviceType.Network ? VirtioNet.TransmitQueue : 0;
        GuestQueue? q = null;
        var all = new List<GuestQueue>();
        for (var i = 0; i < device.QueueCount; i++)
        {
            var set = d.SetupQueue(i, Size);
            all.Add(set);
            if (i == queueIndex)
            {
                q = set;
            }
        }

        d.DriverOk();
        var pool = d.Alloc(PoolBytes);
        var tables = d.Alloc(TableBytes);
        random.NextBytes(d.Ram.Bytes.Slice((int)(pool - GuestDriver.RamBase), (int)PoolBytes));
        var ramEnd = GuestDriver.RamBase + d.Ram.Size;

        ulong BufferAddress() => random.Next(10) switch
        {
            < 7 => pool + (ulong)random.Next((int)PoolBytes),
            7 => ramEnd - (ulong)random.Next(1, 600),
            8 => (ulong)random.NextInt64(0, 0x8000_0000),
            _ => random.Next(2) == 0 ? ulong.MaxValue - (ulong)random.Next(4096) : (ulong)random.NextInt64() * 2,
        };

        uint Length() => random.Next(10) switch
        {
            < 6 => (uint)random.Next(0, 700),
            6 or 7 => (uint)random.Next(0, 70_000),
            8 => 0,
            _ => (uint)random.NextInt64(0, uint.MaxValue),
        };

        ushort Flags() => (ushort)(random.Next(3) switch
        {
            0 => random.Next(8),
            _ => random.Next(4),
        });

        ushort Next(ushort limit) => random.Next(5) == 0 ? (ushort)random.Next(ushort.MaxValue + 1) : (ushort)random.Next(limit);

        void Header(ulong address)
        {
            if (random.Next(2) == 0 && d.Ram.TryOffset(address, 16, out var o))
            {
                uint[] types = [0, 1, 4, 8, 11];
                BinaryPrimitives.WriteUInt32LittleEndian(d.Ram.Bytes[o..], types[random.Next(types.Length)]);
                BinaryPrimitives.WriteUInt64LittleEndian(d.Ram.Bytes[(o + 8)..], (ulong)random.Next(0, 2100));
            }
        }

        // A third of the runs are mostly well-formed (pairs of a readable descriptor chained to a writable
        // one, and single writable ones), so chains complete before something breaks; the rest is noise.
        var sane = random.Next(3) == 0;
        var tableNext = tables;
        for (ushort i = 0; i < Size; i++)
        {
            if (sane && random.Next(12) != 0)
            {
                var a = pool + (ulong)random.Next((int)PoolBytes - 1024);
                Header(a);
                var readable = i % 2 == 0;
                q!.WriteDesc(q.Desc, i, a, (uint)(readable ? 16 + (512 * random.Next(2)) : random.Next(1, 1024)),
                    readable ? VirtqDesc.FlagNext : VirtqDesc.FlagWrite, (ushort)(i + 1));
                continue;
            }

            var flags = Flags();
            if ((flags & VirtqDesc.FlagIndirect) != 0 && tableNext + 512 <= tables + TableBytes && random.Next(4) != 0)
            {
                var entries = (ushort)random.Next(1, 32);
                for (ushort e = 0; e < entries; e++)
                {
                    var a = BufferAddress();
                    Header(a);
                    q!.WriteDesc(tableNext, e, a, Length(), Flags(), Next(entries));
                }

                var bytes = random.Next(6) == 0 ? (uint)random.Next(0, 600) : (uint)entries * 16;
                q!.WriteDesc(q.Desc, i, tableNext, bytes, flags, Next(Size));
                tableNext += 512;
                continue;
            }

            var address = BufferAddress();
            Header(address);
            q!.WriteDesc(q.Desc, i, address, Length(), flags, Next(Size));
        }

        var count = random.Next(0, Size + 1);
        for (var i = 0; i < count; i++)
        {
            q!.MakeAvailable(random.Next(8) == 0 ? (ushort)random.Next(ushort.MaxValue + 1) : (ushort)random.Next(Size));
        }

        if (random.Next(10) == 0)
        {
            q!.PublishRaw((ushort)random.Next(ushort.MaxValue + 1));
        }
        else
        {
            q!.Publish();
        }

        var allowedReads = new List<(ulong, ulong)>();
        var allowedWrites = new List<(ulong, ulong)>();
        foreach (var each in all)
        {
            allowedReads.AddRange([(each.Desc, VirtqLayout.DescTableBytes(Size)), (each.Avail, VirtqLayout.AvailBytes(Size)), (each.Used, VirtqLayout.UsedBytes(Size))]);
            allowedWrites.Add((each.Used, VirtqLayout.UsedBytes(Size)));
        }

        Named(d, q.Desc, Size, allowedReads, allowedWrites, followIndirect: true);

        recorder!.Recording = true;
        q.Kick();
        if (device is VirtioNetDevice net)
        {
            net.TryDeliver(new byte[60]); // the receive queue is empty: nothing may be touched for it
        }

        recorder.Recording = false;
        foreach (var (address, length) in recorder.Reads)
        {
            Assert.True(Inside(allowedReads, address, length), $"seed {seed}: read 0x{address:x}+{length} outside every ring and descriptor");
        }

        foreach (var (address, length) in recorder.Writes)
        {
            Assert.True(Inside(allowedWrites, address, length), $"seed {seed}: write 0x{address:x}+{length} outside the used ring and writable buffers");
        }

        var status = (DeviceStatus)d.Read(VirtioMmioRegister.Status);
        Assert.Equal(d.Transport.LastFault is not null, (status & DeviceStatus.DeviceNeedsReset) != 0);
        return (q.UsedIdxInRam, d.Transport.LastFault);
    }

    private static void Named(GuestDriver d, ulong table, uint entries, List<(ulong, ulong)> reads, List<(ulong, ulong)> writes, bool followIndirect)
    {
        var raw = new byte[16];
        for (var i = 0u; i < entries; i++)
        {
            if (!d.Ram.TryRead(table + (i * 16), raw))
            {
                return;
            }

            var address = BinaryPrimitives.ReadUInt64LittleEndian(raw);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(8));
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(12));
            reads.Add((address, length));
            if ((flags & VirtqDesc.FlagIndirect) != 0)
            {
                if (followIndirect)
                {
                    Named(d, address, Math.Min(length / 16, 1024), reads, writes, followIndirect: false);
                }
            }
            else if ((flags & VirtqDesc.FlagWrite) != 0)
            {
                writes.Add((address, length));
            }
        }
    }

    private static bool Inside(List<(ulong Start, ulong Length)> ranges, ulong address, ulong length)
    {
        foreach (var (start, size) in ranges)
        {
            if (address >= start && address - start <= size && length <= size - (address - start))
            {
                return true;
            }
        }

        return false;
    }
}
