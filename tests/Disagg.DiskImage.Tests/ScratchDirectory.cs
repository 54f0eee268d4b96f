namespace Disagg.DiskImage.Tests;

/// <summary>A temp directory per test, always removed.</summary>
public sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory()
    {
        Root = Directory.CreateTempSubdirectory("disagg-blkback-").FullName;
    }

    public string Root { get; }

    public string File(string name) => System.IO.Path.Combine(Root, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A killed child may still hold a file for a moment; the OS temp cleaner gets it.
        }
    }
}
