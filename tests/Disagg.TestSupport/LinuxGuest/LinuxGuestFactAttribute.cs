using Xunit;

namespace Disagg.TestSupport.LinuxGuest;

/// <summary>A test that needs the fetched Debian kernel: skipped, saying why, only when `make linux-guest` could not fetch it.</summary>
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
