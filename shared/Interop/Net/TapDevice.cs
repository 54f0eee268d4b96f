using System.Runtime.InteropServices;
using System.Text;

namespace Disagg.Interop.Net;

/// <summary>
/// A Linux TAP device (/dev/net/tun, IFF_TAP | IFF_NO_PI): whole Ethernet frames in and out, non-blocking.
/// Persistent, so the interface (and the addresses the host gave it) outlives a killed owner and a restarted
/// one attaches to the same device; <see cref="Remove"/> takes it away on a planned stop. Needs CAP_NET_ADMIN.
/// </summary>
public sealed unsafe class TapDevice : IDisposable
{
    private readonly FileDescriptor _fd;

    private TapDevice(FileDescriptor fd, string name)
    {
        _fd = fd;
        Name = name;
    }

    public string Name { get; }

    /// <summary>The descriptor, for a poller that waits on it together with others.</summary>
    public int Fd => _fd.Value;

    /// <summary>Creates (or attaches to the existing persistent) TAP device <paramref name="name"/>, sets its MTU and brings it up.</summary>
    public static TapDevice Open(string name, int mtu)
    {
        if (name.Length is 0 or >= NetLibc.IfNameSize || name.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a network interface name (1-15 characters)", nameof(name));
        }

        var fd = new FileDescriptor((int)InteropException.Check(NetLibc.Open("/dev/net/tun", NetLibc.ORdwr | NetLibc.ONonblock | NetLibc.OCloexec), "open(/dev/net/tun)"));
        try
        {
            var req = Request(name);
            req.Flags = NetLibc.IffTap | NetLibc.IffNoPi;
            InteropException.Check(NetLibc.Ioctl(fd.Value, NetLibc.TunSetIff, &req), $"ioctl(TUNSETIFF {name})");
            InteropException.Check(NetLibc.IoctlInt(fd.Value, NetLibc.TunSetPersist, 1), $"ioctl(TUNSETPERSIST {name})");
            Configure(name, mtu);
            return new TapDevice(fd, name);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Reads one frame; 0 when none is waiting.</summary>
    public int TryRead(Span<byte> frame)
    {
        fixed (byte* p = frame)
        {
            var n = Libc.Read(_fd.Value, p, (nuint)frame.Length);
            if (n >= 0)
            {
                return (int)n;
            }

            var errno = Marshal.GetLastPInvokeError();
            return errno is Libc.Eagain or Libc.Eintr ? 0 : throw new InteropException($"read(tap {Name})", errno);
        }
    }

    /// <summary>Writes one frame to the host; false when the host side is not reading (queue full, or the link is down).</summary>
    public bool TryWrite(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
        {
            return Libc.Write(_fd.Value, p, (nuint)frame.Length) == frame.Length;
        }
    }

    /// <summary>Clears the persistent flag: the interface goes when this descriptor closes.</summary>
    public void Remove() => NetLibc.IoctlInt(_fd.Value, NetLibc.TunSetPersist, 0);

    public void Dispose() => _fd.Dispose();

    private static NetLibc.IfReq Request(string name)
    {
        var req = default(NetLibc.IfReq);
        var bytes = Encoding.ASCII.GetBytes(name);
        for (var i = 0; i < bytes.Length; i++)
        {
            req.Name[i] = bytes[i];
        }

        return req;
    }

    private static void Configure(string name, int mtu)
    {
        using var socket = new FileDescriptor((int)InteropException.Check(NetLibc.Socket(NetLibc.AfInet, NetLibc.SockDgram | NetLibc.SockCloexec, 0), "socket(AF_INET)"));
        var req = Request(name);
        req.Mtu = mtu;
        InteropException.Check(NetLibc.Ioctl(socket.Value, NetLibc.SiocSifMtu, &req), $"ioctl(SIOCSIFMTU {name})");
        req = Request(name);
        InteropException.Check(NetLibc.Ioctl(socket.Value, NetLibc.SiocGifFlags, &req), $"ioctl(SIOCGIFFLAGS {name})");
        req.Flags |= NetLibc.IffUp;
        InteropException.Check(NetLibc.Ioctl(socket.Value, NetLibc.SiocSifFlags, &req), $"ioctl(SIOCSIFFLAGS {name})");
    }
}
