using Disagg.Toolstack.Daemon.Guests;

namespace Disagg.Toolstack.Migration;

/// <summary>
/// A guest's ISA width ("rv32" or "rv64"): what an rv32 target checks first. The one the daemon learned at its create or
/// arrival; else (a restored guest) its kernel's ELF class.
/// </summary>
internal static class GuestWidth
{
    public static string Of(Guest guest)
    {
        if (guest.Isa is { } known)
        {
            return known;
        }

        var path = Path.Combine(Path.GetDirectoryName(guest.ConfigPath) ?? ".", guest.Config.Kernel ?? "");
        try
        {
            using var file = File.OpenRead(path);
            Span<byte> ident = stackalloc byte[5];
            return file.ReadAtLeast(ident, 5, throwOnEndOfStream: false) == 5 && ident[4] == 1 ? "rv32" : "rv64";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Daemon.DomainOperationException(guest.Name, $"cannot read its kernel {path}: {e.Message}");
        }
    }
}
