using System.Globalization;
using Disagg.Xenbus;

namespace Disagg.Toolstack.Fault.Workload;

/// <summary>
/// Canary keys in xenstore: one written per tick under <see cref="Root"/>, and every key whose write xenstored
/// acknowledged is read back on each check. xenstored fsyncs its journal before it replies (docs/XENSTORED.md),
/// so an acknowledged key that is gone or changed after a restart is a lost entry. A write that got no reply
/// (xenstored died under it) was never acknowledged and is not checked. Reconnects while xenstored restarts.
/// </summary>
public sealed class XenstoreCanaries(string socket, string root) : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(2);
    private readonly List<(int Key, string Value)> _acknowledged = [];

    /// <summary>One operation at a time: the canary loop writes while the settling check reads the list and the client.</summary>
    private readonly SemaphoreSlim _gate = new(1, 1);
    private XenstoreClient? _client;
    private int _next;

    /// <summary>Where the canaries live, one run's own directory.</summary>
    public string Root { get; } = root;

    public int Written => _acknowledged.Count;

    public int Unacknowledged { get; private set; }

    public long Checks { get; private set; }

    public static string ValueFor(int key) => $"canary-{key}-{(uint)(key * 2654435761u):x8}";

    /// <summary>Writes the next canary; false when xenstored did not acknowledge it (it is down or restarting).</summary>
    public async Task<bool> WriteNextAsync(CancellationToken cancel)
    {
        await _gate.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            return await WriteNextLockedAsync(cancel).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<bool> WriteNextLockedAsync(CancellationToken cancel)
    {
        var key = _next++;
        var value = ValueFor(key);
        try
        {
            var client = await ClientAsync(cancel).ConfigureAwait(false);
            await client.WriteAsync(0, $"{Root}/{key.ToString(CultureInfo.InvariantCulture)}", value, cancel).ConfigureAwait(false);
            _acknowledged.Add((key, value));
            return true;
        }
        catch (Exception e) when (e is IOException or XenstoreException or System.Net.Sockets.SocketException or TimeoutException)
        {
            Unacknowledged++;
            await DropAsync().ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>
    /// Reads every acknowledged canary back. Null: all there (or xenstored unreachable now: no verdict, checked
    /// next time); otherwise the evidence of the first one lost or changed.
    /// </summary>
    public async Task<string?> CheckAsync(CancellationToken cancel)
    {
        await _gate.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            return await CheckLockedAsync(cancel).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string?> CheckLockedAsync(CancellationToken cancel)
    {
        try
        {
            var client = await ClientAsync(cancel).ConfigureAwait(false);
            foreach (var (key, value) in _acknowledged)
            {
                var path = $"{Root}/{key.ToString(CultureInfo.InvariantCulture)}";
                var got = await client.ReadAsync(0, path, cancel).ConfigureAwait(false);
                if (got != value)
                {
                    return got is null
                        ? $"{path} is gone: written and acknowledged as \"{value}\""
                        : $"{path} holds \"{got}\", acknowledged as \"{value}\"";
                }
            }

            Checks++;
            return null;
        }
        catch (Exception e) when (e is IOException or XenstoreException or System.Net.Sockets.SocketException or TimeoutException)
        {
            await DropAsync().ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>Removes the run's canaries (best effort: the run's verdict does not depend on it).</summary>
    public async Task RemoveAsync(CancellationToken cancel)
    {
        try
        {
            var client = await ClientAsync(cancel).ConfigureAwait(false);
            await client.RmAsync(0, Root, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or XenstoreException or System.Net.Sockets.SocketException or TimeoutException)
        {
            // left behind under /tool: harmless, and named in the report's root
        }
    }

    public async ValueTask DisposeAsync() => await DropAsync().ConfigureAwait(false);

    private async Task<XenstoreClient> ClientAsync(CancellationToken cancel)
    {
        if (_client is { Closed.IsCompleted: false } c)
        {
            return c;
        }

        await DropAsync().ConfigureAwait(false);
        _client = await XenstoreClient.ConnectAsync(socket, cancel, ReplyTimeout).ConfigureAwait(false);
        return _client;
    }

    private async Task DropAsync()
    {
        if (_client is { } c)
        {
            _client = null;
            await c.DisposeAsync().ConfigureAwait(false);
        }
    }
}
