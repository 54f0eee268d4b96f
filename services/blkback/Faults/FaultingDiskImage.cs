using Disagg.Control.Messages;
using Disagg.DiskImage;
using Disagg.Service.Faults;

namespace Disagg.Blkback.Faults;

/// <summary>
/// A disk image whose next write fails with EIO when a fault-injection host armed <see cref="ChannelFaultKind.DiskEio"/>:
/// nothing is written, the I/O loop answers that one request BLKIF_RSP_ERROR as for a real I/O error, and every other
/// request goes to the image untouched. Wrapped around an image only in a service that has <see cref="ChannelFaults"/>;
/// a normal blkback writes to the image itself.
/// </summary>
internal sealed class FaultingDiskImage(IDiskImage inner, ChannelFaults faults) : IDiskImage
{
    public string Path => inner.Path;

    public DiskImageFormat Format => inner.Format;

    public long SectorCount => inner.SectorCount;

    public bool ReadOnly => inner.ReadOnly;

    public void Read(long sector, Span<byte> buffer) => inner.Read(sector, buffer);

    public void Write(long sector, ReadOnlySpan<byte> buffer)
    {
        if (faults.TryTake(ChannelFaultKind.DiskEio))
        {
            throw new IOException($"{inner.Path}: injected EIO writing sectors {sector}..{sector + (buffer.Length / IDiskImage.SectorSize) - 1}");
        }

        inner.Write(sector, buffer);
    }

    public void Flush() => inner.Flush();

    public void Discard(long sector, long count) => inner.Discard(sector, count);

    public void Dispose() => inner.Dispose();
}
