using System.Buffers.Binary;
using Disagg.DiskImage;
using Disagg.Virtio.Blk;
using Disagg.Virtio.Device;
using Disagg.Virtio.Transport;

namespace Disagg.Virtio.Tests.Driver;

/// <summary>A guest's virtio-blk driver in tests: builds requests as Linux's virtio_blk does (header, data, status descriptors).</summary>
internal sealed class BlkGuest
{
    public BlkGuest(IDiskImage image, ulong refuse = 0, string serial = "disagg-test-disk")
    {
        Device = new VirtioBlkDevice("virtio-blk vda", image, serial);
        Driver = new GuestDriver((ram, irq) => new VirtioMmioTransport(Device, ram, irq));
        Queue = Driver.Bringup(VirtioDeviceType.Block, 1, refuse)[0];
    }

    public VirtioBlkDevice Device { get; }

    public GuestDriver Driver { get; }

    public GuestQueue Queue { get; set; }

    public ulong Header(uint type, ulong sector)
    {
        var h = Driver.Alloc(16);
        Assert.True(Driver.Ram.TryOffset(h, 16, out var o));
        BinaryPrimitives.WriteUInt32LittleEndian(Driver.Ram.Bytes[o..], type);
        BinaryPrimitives.WriteUInt64LittleEndian(Driver.Ram.Bytes[(o + 8)..], sector);
        return h;
    }

    public ulong Status()
    {
        var s = Driver.Alloc(1, 1);
        Poke(s, [0xff]);
        return s;
    }

    public void Poke(ulong address, ReadOnlySpan<byte> bytes) => Assert.True(Driver.Ram.TryWrite(address, bytes));

    public byte[] Peek(ulong address, int length)
    {
        var b = new byte[length];
        Assert.True(Driver.Ram.TryRead(address, b));
        return b;
    }

    /// <summary>Adds a request without publishing it; returns its status byte's address.</summary>
    public ulong Enqueue(uint type, ulong sector, byte[]? outData = null, int inLength = 0, bool indirect = false)
    {
        var header = Header(type, sector);
        var status = Status();
        var buffers = new List<(ulong, uint, bool)> { (header, 16, false) };
        if (outData is not null)
        {
            var data = Driver.Alloc((uint)outData.Length);
            Poke(data, outData);
            buffers.Add((data, (uint)outData.Length, false));
        }

        if (inLength > 0)
        {
            buffers.Add((Driver.Alloc((uint)inLength), (uint)inLength, true));
        }

        buffers.Add((status, 1, true));
        if (indirect)
        {
            Queue.AddIndirect([.. buffers]);
        }
        else
        {
            Queue.Add([.. buffers]);
        }

        return status;
    }

    public byte Write(ulong sector, byte[] data) => Complete(Enqueue(VirtioBlk.TypeOut, sector, outData: data));

    public byte Flush() => Complete(Enqueue(VirtioBlk.TypeFlush, 0));

    public (byte Status, byte[] Data) Read(ulong sector, int length, bool indirect = false)
    {
        var header = Header(VirtioBlk.TypeIn, sector);
        var data = Driver.Alloc((uint)length);
        var status = Status();
        (ulong, uint, bool)[] chain = [(header, 16, false), (data, (uint)length, true), (status, 1, true)];
        if (indirect)
        {
            Queue.AddIndirect(chain);
        }
        else
        {
            Queue.Add(chain);
        }

        var s = Complete(status, expectLength: (uint)length + 1);
        return (s, Peek(data, length));
    }

    /// <summary>Publishes, kicks, takes the one completion and returns the status the device wrote.</summary>
    public byte Complete(ulong status, uint? expectLength = null)
    {
        Queue.Submit();
        Assert.True(Queue.TryTakeUsed(out _, out var len), "no completion");
        if (expectLength is { } e)
        {
            Assert.Equal(e, len);
        }

        return Peek(status, 1)[0];
    }
}
