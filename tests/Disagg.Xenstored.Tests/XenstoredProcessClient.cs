using Disagg.TestSupport;

namespace Disagg.Xenstored.Tests;

/// <summary>The raw wire client of this project for the shared <see cref="XenstoredProcess"/>.</summary>
public static class XenstoredProcessClient
{
    public static XsClient Connect(this XenstoredProcess xenstored) => new(xenstored.SocketPath);
}
