namespace Disagg.Toolstack.Daemon.Save;

/// <summary>
/// Follows an image file the kernel writes (its ".partial" until renamed) and reports its size while the
/// kernel's request runs: the kernel writes the stream, the daemon only watches it grow.
/// </summary>
internal static class ImageProgress
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    public static async Task<T> FollowAsync<T>(string path, Task<T> work, Func<long, Task> report)
    {
        long last = -1;
        while (!work.IsCompleted)
        {
            await Task.WhenAny(work, Task.Delay(Interval)).ConfigureAwait(false);
            var size = Size(path);
            if (size != last && !work.IsCompleted)
            {
                last = size;
                await report(size).ConfigureAwait(false);
            }
        }

        return await work.ConfigureAwait(false);
    }

    private static long Size(string path)
    {
        try
        {
            var f = new FileInfo(path);
            return f.Exists ? f.Length : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
