using Disagg.Kernel.Core;

namespace Disagg.Kernel.Control;

/// <summary>
/// `disagg-kernel serve`: the long-running hypervisor. Prints one line when the control socket
/// accepts — "ready socket=PATH token=TOKEN" — for the toolstack that started it, then serves
/// until SIGTERM or SIGINT, when it destroys every domain and exits 0.
/// </summary>
internal static class KernelService
{
    public static int Run(ServeOptions options)
    {
        using var hypervisor = new Hypervisor(options.Pcpus, options.MemoryBytes) { Engine = options.Engine };
        var server = new KernelServer(hypervisor, options.Socket);
        using var stop = new CancellationTokenSource();
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });

        var serving = server.RunAsync();
        Console.Out.WriteLine($"ready socket={server.SocketPath} token={server.ControlToken}");
        Console.Out.Flush();
        try
        {
            Task.Delay(Timeout.Infinite, stop.Token).Wait(CancellationToken.None);
        }
        catch (AggregateException e) when (e.InnerException is TaskCanceledException)
        {
            // SIGTERM / SIGINT: shut down in order below
        }

        server.DisposeAsync().AsTask().Wait();
        serving.Wait();
        return 0;
    }
}
