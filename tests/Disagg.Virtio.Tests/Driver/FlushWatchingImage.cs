using Disagg.DiskImage;

namespace Disagg.Virtio.Tests.Driver;

/// <summary>
/// A real image, passed through, that notes what the guest could see at the moment each fdatasync ran,
/// and can stand for a device model killed in the middle of the Nth write (it throws something no
/// device catches, leaving the request taken and never completed, as SIGKILL would).
/// </summary>
internal sealed class FlushWatchingImage(IDiskImage inner) : IDiskImage
{
    public Func<ushort>? GuestUsedIdx { get; set; }

    public List<ushort> UsedIdxAtFlush { get; } = [];

    public int Writes { get; private set; }

    public int DieOnWrite { get; set; } = -1;

    public string Path => inner.Path;

    public DiskImageFormat Format => inner.Format;

    public long SectorCount => inner.SectorCount;

    public bool ReadOnly => inner.ReadOnly;

    public void Read(long sector, Span<byte> buffer) => inner.Read(sector, buffer);

    public void Write(long sector, ReadOnlySpan<byte> buffer)
    {
        if (Writes++ == DieOnWrite)
        {
            throw new DeviceModelKilled();
        }

        inner.Write(sector, buffer);
    }

    public void Flush()
    {
        inner.Flush();
        UsedIdxAtFlush.Add(GuestUsedIdx?.Invoke() ?? 0);
    }

    public void Discard(long sector, long count) => inner.Discard(sector, count);

    public void Dispose() => inner.Dispose();
}

/// <summary>Stands for SIGKILL of the device model in the middle of a request.</summary>
internal sealed class DeviceModelKilled : Exception
{
    public DeviceModelKilled()
        : base("device model killed")
    {
    }

    public DeviceModelKilled(string message)
        : base(message)
    {
    }

    public DeviceModelKilled(string message, Exception inner)
        : base(message, inner)
    {
    }
}
