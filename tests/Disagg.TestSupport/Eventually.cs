namespace Disagg.TestSupport;

/// <summary>
/// Waiting for what another thread or process will make true: the condition is polled until it holds or
/// its deadline passes (and looked at once more then), never a fixed sleep. The one copy every test uses.
/// </summary>
public static class Eventually
{
    /// <summary>Short against every deadline, long enough not to take a loaded machine's CPU from what is waited for.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    public static bool Holds(Func<bool> condition, double seconds = 20)
    {
        var deadline = Environment.TickCount64 + (long)(seconds * 1000);
        while (!condition())
        {
            if (Environment.TickCount64 >= deadline)
            {
                return condition();
            }

            Thread.Sleep(Interval);
        }

        return true;
    }

    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, double seconds = 20)
    {
        var deadline = Environment.TickCount64 + (long)(seconds * 1000);
        while (!await condition().ConfigureAwait(false))
        {
            if (Environment.TickCount64 >= deadline)
            {
                return await condition().ConfigureAwait(false);
            }

            await Task.Delay(Interval).ConfigureAwait(false);
        }

        return true;
    }
}
