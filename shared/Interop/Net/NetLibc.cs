using System.Runtime.InteropServices;

namespace Disagg.Interop.Net;

/// <summary>The libc entry points for network devices (TUN/TAP, interface flags), source-generated.</summary>
internal static unsafe partial class NetLibc
{
    private const string Lib = "libc";

    public const int ORdwr = 2;
    public const int ONonblock = 0x800;
    public const int OCloexec = 0x80000;
    public const int AfInet = 2;
    public const int SockDgram = 2;
    public const int SockCloexec = 0x80000;
    public const ulong TunSetIff = 0x400454CA;
    public const ulong TunSetPersist = 0x400454CB;
    public const ulong SiocGifFlags = 0x8913;
    public const ulong SiocSifFlags = 0x8914;
    public const ulong SiocSifMtu = 0x8922;
    public const short IffTap = 0x0002;
    public const short IffNoPi = 0x1000;
    public const short IffUp = 0x1;
    public const int IfNameSize = 16;

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, void* argument);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int IoctlInt(int fd, ulong request, nint argument);

    [LibraryImport(Lib, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    /// <summary>struct ifreq (net/if.h): the name, then a 24-byte union (flags, mtu, ...).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    public struct IfReq
    {
        [FieldOffset(0)] public fixed byte Name[IfNameSize];
        [FieldOffset(16)] public short Flags;
        [FieldOffset(16)] public int Mtu;
    }
}
