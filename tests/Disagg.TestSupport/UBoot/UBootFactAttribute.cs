using Xunit;

namespace Disagg.TestSupport.UBoot;

/// <summary>A test that needs the fetched U-Boot: skipped, saying why, only when `make deps` could not fetch it.</summary>
public sealed class UBootFactAttribute : FactAttribute
{
    public UBootFactAttribute()
    {
        if (UBootFiles.Missing is { } why)
        {
            Skip = why;
        }
    }
}
