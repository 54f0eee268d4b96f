namespace Disagg.Xenbus;

/// <summary>An error reply from xenstored: its errno name (ENOENT, EACCES, EAGAIN, ...) for the operation on a path.</summary>
public sealed class XenstoreException(string operation, string path, string error)
    : Exception($"xenstore {operation} {path}: {error}")
{
    public string Operation { get; } = operation;

    public string Path { get; } = path;

    public string Error { get; } = error;
}
