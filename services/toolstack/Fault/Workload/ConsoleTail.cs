using System.Text;

namespace Disagg.Toolstack.Fault.Workload;

/// <summary>
/// Follows one guest's console log (the daemon's console-dir file) from where it was last read: complete new
/// lines, and when the log last grew (a guest's heartbeat). A line still being written is kept for the next read.
/// </summary>
public sealed class ConsoleTail(string path)
{
    private long _offset;
    private string _partial = "";

    public string Path { get; } = path;

    /// <summary>Run-clock ms when the log last grew; -1 before it ever did.</summary>
    public long LastGrowthMs { get; private set; } = -1;

    /// <summary>The complete lines written since the last call.</summary>
    public IReadOnlyList<string> ReadNew(long nowMs)
    {
        if (!File.Exists(Path))
        {
            return [];
        }

        using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (file.Length < _offset)
        {
            _offset = 0; // truncated or replaced: start over
            _partial = "";
        }

        if (file.Length == _offset)
        {
            return [];
        }

        file.Seek(_offset, SeekOrigin.Begin);
        var bytes = new byte[file.Length - _offset];
        var got = file.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        _offset += got;
        LastGrowthMs = nowMs;
        var text = _partial + Encoding.UTF8.GetString(bytes, 0, got);
        var end = text.LastIndexOf('\n');
        if (end < 0)
        {
            _partial = text;
            return [];
        }

        _partial = text[(end + 1)..];
        return text[..end].Split('\n');
    }
}
