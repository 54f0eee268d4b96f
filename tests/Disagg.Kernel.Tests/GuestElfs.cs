using Disagg.TestSupport;

namespace Disagg.Kernel.Tests;

/// <summary>
/// The guest ELFs built under guests/build. If the tree has not been built yet, the first use builds it
/// with `make -C guests`; a failed build is reported, never silently skipped.
/// </summary>
internal static class GuestElfs
{
    private static readonly Lazy<string?> BuildError = new(Build);

    public static string? Error => BuildError.Value;

    public static IEnumerable<string> Find(string pattern)
    {
        _ = BuildError.Value;
        foreach (var width in new[] { "rv64", "rv32" })
        {
            var dir = Path.Combine(RepoPaths.Guests, width);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var file in Directory.GetFiles(dir, pattern).Order(StringComparer.Ordinal))
            {
                yield return Path.GetRelativePath(RepoPaths.Guests, file);
            }
        }
    }

    private static string? Build()
    {
        if (Directory.Exists(RepoPaths.Guests))
        {
            return null;
        }

        var r = HostProcess.Run("make", ["-s", "-C", Path.Combine(RepoPaths.Root, "guests")], TimeSpan.FromMinutes(5));
        return r.ExitCode == 0 ? null : "make -C guests failed: " + r;
    }
}
