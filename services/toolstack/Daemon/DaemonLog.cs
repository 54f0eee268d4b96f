using Microsoft.Extensions.Logging;

namespace Disagg.Toolstack.Daemon;

/// <summary>One line per event an operator cares about, in the daemon's log (state-dir/disagg.log).</summary>
internal sealed partial class DaemonLog(ILogger logger)
{
    [LoggerMessage(Level = LogLevel.Information, Message = "kernel ready: pid {Pid}, socket {Socket}")]
    public partial void KernelReady(int pid, string socket);

    [LoggerMessage(Level = LogLevel.Critical, Message = "the kernel (pid {Pid}) died: {Cause}; every guest died with it")]
    public partial void KernelDied(int pid, string cause);

    [LoggerMessage(Level = LogLevel.Information, Message = "service {Service} ready as domain {DomainId}, pid {Pid}")]
    public partial void ServiceReady(string service, int domainId, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "service {Service} not ready after {Seconds} s ({Reason}); the host carries on without it")]
    public partial void ServiceNotReady(string service, double seconds, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "service {Service} not started: {Reason}")]
    public partial void ServiceNotStarted(string service, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "service {Service} runs unsandboxed: {Program} is none of the service programs (disagg-xenstored, -netback, -blkback, -qemu-dm), so there is no system call allow-list for it")]
    public partial void ServiceUnsandboxed(string service, string program);

    [LoggerMessage(Level = LogLevel.Warning, Message = "service {Service} restarted: died at {DiedAt:O}, {Cause}; down {DowntimeMs:F1} ms ({BackoffMs:F0} ms of it backoff)")]
    public partial void ServiceRestarted(string service, DateTimeOffset diedAt, string cause, double downtimeMs, double backoffMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "service {Service} restart ({Cause}): serving again after {DowntimeMs:F1} ms")]
    public partial void ServicePlannedRestart(string service, string cause, double downtimeMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "service {Service} swapped: {From} -> {To}, pid {Pid}, serving after {Ms} ms")]
    public partial void ServiceSwapped(string service, string from, string to, int pid, long ms);

    [LoggerMessage(Level = LogLevel.Warning, Message = "service {Service}: swap to {To} failed: {Reason}")]
    public partial void ServiceSwapFailed(string service, string to, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "service {Service} stopped")]
    public partial void ServiceStopped(string service);

    [LoggerMessage(Level = LogLevel.Information, Message = "host ready: state dir {StateDir}, socket {Socket}")]
    public partial void HostReady(string stateDir, string socket);

    [LoggerMessage(Level = LogLevel.Information, Message = "host going down: {Reason}")]
    public partial void HostGoingDown(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "host down")]
    public partial void HostDown();

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {DomainId} '{Name}' created from {ConfigPath}")]
    public partial void DomainCreated(int domainId, string name, string configPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {DomainId} '{Name}' {What}: {Action}")]
    public partial void DomainLifecycle(int domainId, string name, string what, string action);

    [LoggerMessage(Level = LogLevel.Warning, Message = "domain '{Name}': {Reason}")]
    public partial void DomainProblem(string name, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CLI connection dropped: {Reason}")]
    public partial void ClientDropped(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "request {Request} failed unexpectedly")]
    public partial void RequestFailed(string request, Exception exception);

    /// <summary>One step of taking the host down: a failure is logged with its stack, and the caller's next step still runs.</summary>
    public async Task StepAsync(Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            RequestFailed("teardown", e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {DomainId} '{Name}' saved to {Path}: {Bytes} bytes in {ElapsedMs} ms, then {After}")]
    public partial void DomainSaved(int domainId, string name, string path, long bytes, long elapsedMs, string after);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {DomainId} '{Name}' restored from {Path} in {ElapsedMs} ms")]
    public partial void DomainRestored(int domainId, string name, string path, long elapsedMs);
}
