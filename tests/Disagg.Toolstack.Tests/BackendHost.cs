using Disagg.DiskImage;

namespace Disagg.Toolstack.Tests;

/// <summary>A shared host with the device backends as service domains: xenstored (1), netback (2), blkback (3).</summary>
public sealed class BackendHost : IDisposable
{
    public TestHost Host { get; } = new("xenstored,netback,blkback");

    /// <summary>A fresh image in the host's guest dir (created with the same library blkback opens it with).</summary>
    public string Image(string name, long bytes = 16 << 20, bool qcow2 = false)
    {
        var path = Path.Combine(Host.GuestDir, name);
        if (qcow2)
        {
            DiskImages.CreateQcow2(path, bytes);
        }
        else
        {
            DiskImages.CreateRaw(path, bytes);
        }

        return path;
    }

    public void Dispose() => Host.Dispose();
}

/// <summary>The test classes that share one <see cref="BackendHost"/> (one host, their tests one after another).</summary>
[CollectionDefinition(Name)]
public sealed class BackendHostCollection : ICollectionFixture<BackendHost>
{
    public const string Name = "backend host";
}
