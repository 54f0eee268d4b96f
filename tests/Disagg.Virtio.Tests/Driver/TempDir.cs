namespace Disagg.Virtio.Tests.Driver;

/// <summary>A directory for a test's image files, removed afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "disagg-virtio-" + Guid.NewGuid().ToString("N")[..12]);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a leaked temp dir must not fail a test
        }
    }
}
