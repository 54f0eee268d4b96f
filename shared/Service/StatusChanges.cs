namespace Disagg.Service;

/// <summary>
/// When a backend's status file (DIR/status, read by the dashboard and /metrics) needs writing again: the data path
/// marks a change (a batch moved, a device came or went) and the writer waits for one, then writes at most once per
/// <c>minimumGap</c>. An idle backend therefore writes nothing and wakes nobody; a busy one writes as often as
/// before. Mark costs the data path one volatile read while a change is already pending, and one exchange plus
/// completing the writer's wait (at most once per written file) when it is the first.
/// </summary>
public sealed class StatusChanges
{
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pending;

    /// <summary>Something the status file shows changed.</summary>
    public void Mark()
    {
        if (Volatile.Read(ref _pending) == 0 && Interlocked.Exchange(ref _pending, 1) == 0)
        {
            Volatile.Read(ref _wake).TrySetResult();
        }
    }

    /// <summary>
    /// Writes with <paramref name="write"/> now, then after each change, no sooner than <paramref name="minimumGap"/>
    /// after the previous write, until <paramref name="cancel"/>.
    /// </summary>
    public async Task WriteOnChangeAsync(Action write, TimeSpan minimumGap, CancellationToken cancel)
    {
        try
        {
            while (true)
            {
                var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref _wake, wake);
                Volatile.Write(ref _pending, 0); // a change from here on completes the new wait and is caught by the next write
                write();
                await Task.Delay(minimumGap, cancel).ConfigureAwait(false);

                // Awaited directly, with cancellation completing the same task: completing it from the data path then
                // queues this method's continuation as is (Task.WaitAsync's continuation would cost that thread an
                // allocation per wake-up, and the switching thread allocates nothing).
                using (cancel.UnsafeRegister(static w => ((TaskCompletionSource)w!).TrySetCanceled(), wake))
                {
                    await wake.Task.ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
