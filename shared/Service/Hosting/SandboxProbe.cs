using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace Disagg.Service.Hosting;

/// <summary>
/// A test-only hook that proves a service's sandbox holds: present only when the supervisor set
/// <see cref="EnvironmentVariable"/> (a host started for tests, DISAGG_TEST_HOOKS=1), it waits for SIGUSR1, then
/// does what the named request file says, one line: "open PATH" (read an existing file), "create PATH" (a new
/// file), "exec PATH", or "forbidden-call" (a system call outside every allow-list, which the sandbox answers by
/// killing the process), and writes "sandbox probe: REQUEST: allowed" or "...: refused (why)" on stderr.
/// </summary>
internal sealed class SandboxProbe(string requestFile) : IHostedService, IDisposable
{
    /// <summary>The request file's path; set by the supervisor for a test host's services only.</summary>
    public const string EnvironmentVariable = "DISAGG_SANDBOX_PROBE";

    private const int Sigusr1 = 10;
    private PosixSignalRegistration? _signal;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _signal = PosixSignalRegistration.Create((PosixSignal)Sigusr1, context =>
        {
            context.Cancel = true;
            Run();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _signal?.Dispose();

    private void Run()
    {
        string request;
        try
        {
            request = File.ReadAllText(requestFile).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"sandbox probe: cannot read {requestFile}: {e.Message}");
            return;
        }

        var space = request.IndexOf(' ', StringComparison.Ordinal);
        var (verb, path) = space < 0 ? (request, "") : (request[..space], request[(space + 1)..]);
        string outcome;
        try
        {
            outcome = verb switch
            {
                "open" => Open(path, FileMode.Open, FileAccess.Read),
                "create" => Open(path, FileMode.CreateNew, FileAccess.Write),
                "exec" => $"refused ({Marshal.GetPInvokeErrorMessage(Disagg.Interop.SandboxCalls.TryExec(path))})",
                "forbidden-call" => $"allowed (errno {Disagg.Interop.SandboxCalls.CallOutsideAllowList()})",
                _ => "unknown request (open PATH, create PATH, exec PATH, forbidden-call)",
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            outcome = $"refused ({e.Message})";
        }

        Console.Error.WriteLine($"sandbox probe: {request}: {outcome}");
    }

    private static string Open(string path, FileMode mode, FileAccess access)
    {
        using var handle = File.OpenHandle(path, mode, access);
        return "allowed";
    }
}
