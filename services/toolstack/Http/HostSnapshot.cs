using Disagg.Control.Messages;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;
using Disagg.Toolstack.Supervision;

namespace Disagg.Toolstack.Http;

/// <summary>
/// What /metrics and the dashboard show, gathered when asked (a scrape, or once a second while a browser
/// watches): the kernel's domain and vCPU lists and host figures, the supervisor's services with their last
/// restart, and the backends' status files read at that moment. Nothing is sampled while nobody looks.
/// </summary>
internal sealed record HostSnapshot(
    long TakenUnixMs,
    HostInfo Host,
    IReadOnlyList<DomainSummary> Domains,
    IReadOnlyList<VcpuSummary> Vcpus,
    IReadOnlyList<ServiceRow> Services,
    IReadOnlyDictionary<string, RestartRecord> LastRestarts,
    IReadOnlyList<BackendStatusLine> Backends)
{
    public static async Task<HostSnapshot> TakeAsync(HostDaemon daemon, CancellationToken cancel)
    {
        var kernel = daemon.Kernel;
        var host = await kernel.CallAsync<HostInfo>(new GetHostInfo(), cancel).ConfigureAwait(false);
        var domains = await kernel.CallAsync<DomainList>(new ListDomains(), cancel).ConfigureAwait(false);
        var vcpus = await kernel.CallAsync<VcpuList>(new ListVcpus(-1), cancel).ConfigureAwait(false);
        var services = daemon.Services.List();
        var backends = new List<BackendStatusLine>();
        foreach (var s in services)
        {
            backends.AddRange(BackendStatusLine.ReadFile(s.Name, daemon.State.Combine(Path.Combine(s.Name, "status"))));
        }

        return new HostSnapshot(
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            host,
            domains.Domains,
            vcpus.Vcpus,
            services,
            daemon.Services.LastRestarts,
            backends);
    }

    /// <summary>The kernel's one-letter domain state as a word (xl list's letters).</summary>
    public static string StateWord(string letter) => letter switch
    {
        "r" => "running",
        "b" => "blocked",
        "p" => "paused",
        "s" => "shutdown",
        "c" => "crashed",
        _ => "dying",
    };

    /// <summary>The kernel's one-letter vCPU state as a word (xl vcpu-list's letters).</summary>
    public static string VcpuStateWord(string letter) => letter switch
    {
        "r" => "running",
        "-" => "runnable",
        "b" => "blocked",
        _ => "paused",
    };
}
