using Disagg.Toolstack.Daemon.Guests;

namespace Disagg.Toolstack.Migration;

/// <summary>A guest's ISA width, as its kernel's ELF class says ("rv32" or "rv64"): what an rv32 target checks first.</summary>
internal static class GuestWidth
{
    public static string Of(Guest guest)
    {
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
