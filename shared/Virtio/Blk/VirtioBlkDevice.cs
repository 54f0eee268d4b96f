using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Disagg.DiskImage;
using Disagg.Virtio.Device;
using Disagg.Virtio.Queue;

namespace Disagg.Virtio.Blk;

/// <summary>
/// virtio-blk (virtio 1.x §5.2) over a disk image of shared/DiskImage — the same raw and qcow2 code
/// blkback serves. One request queue, served in order and synchronously: a request's used entry is
/// written only after its image call returned, so a completed write is in the file, and a completed
/// FLUSH (fdatasync) is durable. Read-only images offer VIRTIO_BLK_F_RO and answer writes IOERR.
/// </summary>
/// <remarks>
/// Request bytes are streamed through one 64 KiB buffer, so any split of the data into descriptors
/// works and a request of any size allocates nothing. A request the protocol cannot parse (no 16-byte
/// header, no status byte) faults the queue, as QEMU's virtio_error does; a request that parses but
/// cannot be served (a range past the disk, a partial sector, a host I/O error, a write to a read-only
/// disk) gets IOERR and the device goes on serving.
/// </remarks>
public sealed class VirtioBlkDevice : IVirtioDevice
{
    public const ushort QueueSize = 256;

    /// <summary>seg_max: the queue size less the header and status descriptors (as QEMU), for drivers without indirect descriptors.</summary>
    public const uint SegMax = QueueSize - 2;

    private const int BounceBytes = 64 * 1024;

    private readonly IDiskImage _image;
    private readonly byte[] _config = new byte[VirtioBlk.ConfigSize];
    private readonly byte[] _id = new byte[VirtioBlk.IdBytes];
    private readonly byte[] _bounce = GC.AllocateUninitializedArray<byte>(BounceBytes);
    private bool _writeThrough = true;

    public VirtioBlkDevice(string name, IDiskImage image, string serial)
    {
        Name = name;
        _image = image;
        Features = VirtioBlk.FeatureSegMax | VirtioBlk.FeatureBlkSize | VirtioBlk.FeatureFlush | (image.ReadOnly ? VirtioBlk.FeatureRo : 0);
        BinaryPrimitives.WriteUInt64LittleEndian(_config.AsSpan(VirtioBlk.ConfigCapacity), (ulong)image.SectorCount);
        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(VirtioBlk.ConfigSegMax), SegMax);
        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(VirtioBlk.ConfigBlkSize), VirtioBlk.SectorSize);
        Encoding.ASCII.GetBytes(serial.AsSpan(0, Math.Min(serial.Length, VirtioBlk.IdBytes)), _id);
    }

    public string Name { get; }

    public VirtioDeviceType Type => VirtioDeviceType.Block;

    public ulong Features { get; }

    public int QueueCount => 1;

    public int ConfigSize => _config.Length;

    /// <summary>Requests completed (any status).</summary>
    public long Requests { get; private set; }

    /// <summary>Requests answered IOERR (bad range or length, read-only, host I/O error).</summary>
    public long IoErrors { get; private set; }

    public long Unsupported { get; private set; }

    /// <summary>The last host-side image failure, for the status file and logs.</summary>
    public DiskImageException? LastImageError { get; private set; }

    public ushort MaxQueueSize(int queue) => QueueSize;

    public void ReadConfig(int offset, Span<byte> destination) => _config.AsSpan(offset, destination.Length).CopyTo(destination);

    public void WriteConfig(int offset, ReadOnlySpan<byte> source)
    {
        // No VIRTIO_BLK_F_CONFIG_WCE: nothing in this configuration is writable.
    }

    public void Attach(IVirtioDeviceHost host)
    {
    }

    public void FeaturesAccepted(ulong features) =>
        _writeThrough = (features & VirtioBlk.FeatureFlush) == 0;

    public void Reset() => _writeThrough = true;

    public void QueueNotified(Virtqueue queue)
    {
        while (queue.TryPop(out var chain))
        {
            Serve(queue, chain);
            queue.Push(chain);
        }
    }

    private void Serve(Virtqueue queue, DescriptorChain chain)
    {
        if (chain.ReadableLength < VirtioBlkReqHeader.Size)
        {
            queue.Fail(VirtioFaultReason.MalformedRequest, $"request {chain.Head}: {chain.ReadableLength} readable bytes, the header needs {VirtioBlkReqHeader.Size}");
            return;
        }

        if (chain.WritableLength < 1)
        {
            queue.Fail(VirtioFaultReason.MalformedRequest, $"request {chain.Head}: no device-writable byte for the status");
            return;
        }

        Span<byte> raw = stackalloc byte[VirtioBlkReqHeader.Size];
        if (chain.Read(raw) != raw.Length)
        {
            return;
        }

        var header = MemoryMarshal.Read<VirtioBlkReqHeader>(raw);
        var status = header.Type switch
        {
            VirtioBlk.TypeIn => ReadSectors(chain, header.Sector),
            VirtioBlk.TypeOut => WriteSectors(chain, header.Sector),
            VirtioBlk.TypeFlush => FlushImage(),
            VirtioBlk.TypeGetId => WriteId(chain),
            _ => VirtioBlk.StatusUnsupported,
        };
        if (queue.Fault is not null)
        {
            return;
        }

        Requests++;
        if (status == VirtioBlk.StatusIoErr)
        {
            IoErrors++;
        }
        else if (status == VirtioBlk.StatusUnsupported)
        {
            Unsupported++;
        }

        chain.SkipWritable(chain.WritableRemaining - 1);
        Span<byte> statusByte = stackalloc byte[1];
        statusByte[0] = status;
        chain.Write(statusByte);
    }

    private byte ReadSectors(DescriptorChain chain, ulong sector)
    {
        var length = chain.WritableLength - 1;
        if (!InRange(sector, length))
        {
            return VirtioBlk.StatusIoErr;
        }

        for (var done = 0u; done < length;)
        {
            var n = (int)Math.Min(length - done, (uint)BounceBytes);
            var buffer = _bounce.AsSpan(0, n);
            if (!TryImageIo(write: false, sector + (done / VirtioBlk.SectorSize), n))
            {
                return VirtioBlk.StatusIoErr;
            }

            if (chain.Write(buffer) != n)
            {
                return VirtioBlk.StatusIoErr;
            }

            done += (uint)n;
        }

        return VirtioBlk.StatusOk;
    }

    private byte WriteSectors(DescriptorChain chain, ulong sector)
    {
        var length = chain.ReadableRemaining;
        if (_image.ReadOnly || !InRange(sector, length))
        {
            return VirtioBlk.StatusIoErr;
        }

        for (var done = 0u; done < length;)
        {
            var n = (int)Math.Min(length - done, (uint)BounceBytes);
            var buffer = _bounce.AsSpan(0, n);
            if (chain.Read(buffer) != n)
            {
                return VirtioBlk.StatusIoErr;
            }

            if (!TryImageIo(write: true, sector + (done / VirtioBlk.SectorSize), n))
            {
                return VirtioBlk.StatusIoErr;
            }

            done += (uint)n;
        }

        // §5.2.6.2: without VIRTIO_BLK_F_FLUSH negotiated the driver cannot ask for durability, so every write is.
        return _writeThrough ? FlushImage() : VirtioBlk.StatusOk;
    }

    private byte FlushImage()
    {
        if (_image.ReadOnly)
        {
            return VirtioBlk.StatusOk;
        }

        try
        {
            _image.Flush();
            return VirtioBlk.StatusOk;
        }
        catch (DiskImageException e)
        {
            LastImageError = e;
            return VirtioBlk.StatusIoErr;
        }
    }

    private byte WriteId(DescriptorChain chain)
    {
        var n = (int)Math.Min(chain.WritableLength - 1, (uint)VirtioBlk.IdBytes);
        chain.Write(_id.AsSpan(0, n));
        return VirtioBlk.StatusOk;
    }

    /// <summary>Whole sectors, inside the disk; computed without overflow (sector comes from the guest).</summary>
    private bool InRange(ulong sector, uint length)
    {
        if (length % VirtioBlk.SectorSize != 0)
        {
            return false;
        }

        var count = (ulong)_image.SectorCount;
        return sector <= count && length / VirtioBlk.SectorSize <= count - sector;
    }

    /// <summary>Moves <paramref name="length"/> bytes between the bounce buffer and the image; host failures become false.</summary>
    private bool TryImageIo(bool write, ulong sector, int length)
    {
        try
        {
            if (write)
            {
                _image.Write((long)sector, _bounce.AsSpan(0, length));
            }
            else
            {
                _image.Read((long)sector, _bounce.AsSpan(0, length));
            }

            return true;
        }
        catch (DiskImageException e)
        {
            LastImageError = e;
            return false;
        }
    }
}
