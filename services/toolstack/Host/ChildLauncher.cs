using System.Collections.Concurrent;
using System.Diagnostics;

namespace Disagg.Toolstack.Host;

/// <summary>
/// Starts the daemon's children (the kernel, the service domains) from one thread that lives as long
/// as the daemon, and asks each to die with it. Linux's PR_SET_PDEATHSIG fires when the *thread* that
/// forked the child ends, and .NET forks on the calling thread: a child started from a thread-pool
/// thread would be killed when that thread retires. The child makes the prctl call itself (early in its
/// Main, <see cref="Interop.ProcessSignals.DieWithParent"/>) when it finds <see cref="EnvironmentVariable"/>
/// set, so a program started by hand or by a test is not affected.
/// </summary>
internal static class ChildLauncher
{
    /// <summary>Set to "1" in every child's environment: "call DieWithParent".</summary>
    public const string EnvironmentVariable = "DISAGG_DIE_WITH_PARENT";

    private static readonly BlockingCollection<Action> Work = [];
    private static readonly Lazy<Thread> Launcher = new(() =>
    {
        var thread = new Thread(() =>
        {
            foreach (var item in Work.GetConsumingEnumerable())
            {
                item();
            }
        })
        {
            IsBackground = true,
            Name = "disagg child launcher",
        };
        thread.Start();
        return thread;
    });

    /// <summary>Starts <paramref name="process"/> on the launcher thread (its StartInfo gets the die-with-parent variable).</summary>
    public static void Start(Process process)
    {
        process.StartInfo.Environment[EnvironmentVariable] = "1";
        _ = Launcher.Value;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Work.Add(() =>
        {
            try
            {
                process.Start();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        done.Task.GetAwaiter().GetResult();
    }
}
