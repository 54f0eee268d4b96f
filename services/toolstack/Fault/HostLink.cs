using Disagg.Toolstack.Cli;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Fault;

/// <summary>
/// What a fault run asks of the host daemon, one connection per request as every CLI verb does (the injector,
/// the monitor and a swap waiting for its reply run at once). Errors come back as <see cref="CliException"/>.
/// </summary>
internal sealed class HostLink(StateDir state)
{
    public StateDir State { get; } = state;

    public async Task<IReadOnlyList<ServiceRow>> ServicesAsync(CancellationToken cancel) =>
        (await CallAsync<ServiceListReply>(new ServiceListRequest(), cancel).ConfigureAwait(false)).Services;

    public async Task<string> ActAsync(string service, ServiceAction action, CancellationToken cancel) =>
        (await CallAsync<OkReply>(new ServiceActionRequest(service, action), cancel).ConfigureAwait(false)).Message;

    public async Task<string> SwapAsync(string service, string binary, int timeoutSeconds, CancellationToken cancel) =>
        (await CallAsync<OkReply>(new ServiceSwapRequest(service, binary, timeoutSeconds), cancel).ConfigureAwait(false)).Message;

    /// <summary>Arms a channel fault in a service of a fault-injection host (count 0: only whether the host is one).</summary>
    public async Task<string> InjectAsync(string service, Disagg.Control.Messages.ChannelFaultKind kind, int count, int delayMs, CancellationToken cancel) =>
        (await CallAsync<OkReply>(new ChannelFaultRequest(service, kind, count, delayMs), cancel).ConfigureAwait(false)).Message;

    public Task<CreatedReply> CreateAsync(string configPath, CancellationToken cancel) =>
        CallAsync<CreatedReply>(new CreateRequest(configPath, false, []), cancel);

    public Task<OkReply> DestroyAsync(string domain, CancellationToken cancel) =>
        CallAsync<OkReply>(new DomainActionRequest(domain, DomainAction.Destroy, true), cancel);

    public async Task<IReadOnlyList<DomainRow>> DomainsAsync(CancellationToken cancel) =>
        (await CallAsync<DomainListReply>(new ListRequest(), cancel).ConfigureAwait(false)).Domains;

    public Task<HostCountersReply> CountersAsync(CancellationToken cancel) => CallAsync<HostCountersReply>(new HostCountersRequest(), cancel);

    private async Task<T> CallAsync<T>(DaemonMessage request, CancellationToken cancel)
        where T : DaemonMessage
    {
        await using var client = await DaemonClient.ConnectAsync(State, cancel).ConfigureAwait(false);
        return await client.CallAsync<T>(request, cancel).ConfigureAwait(false);
    }
}
