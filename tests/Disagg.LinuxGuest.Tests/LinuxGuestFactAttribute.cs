using Disagg.TestSupport.LinuxGuest;

namespace Disagg.LinuxGuest.Tests;

/// <summary>
/// A test that needs the fetched Debian kernel: skipped, saying why, only when `make linux-guest` could
/// not fetch it (make test runs that target first).
/// </summary>
public sealed class LinuxGuestFactAttribute : FactAttribute
{
    public LinuxGuestFactAttribute()
    {
        if (LinuxGuestFiles.Missing is { } why)
        {
            Skip = why;
        }
    }
}
