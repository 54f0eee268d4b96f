using Disagg.Interop;

namespace Disagg.Service;

/// <summary>
/// Several grants of one domain mapped as consecutive pages (<see cref="ServiceChannel.MapGrantsAsync"/>):
/// a multi-page ring. Dispose unmaps the range here and releases every grant in the kernel.
/// </summary>
public sealed class MappedGrantRange : IAsyncDisposable
{
    private readonly ServiceChannel _channel;
    private readonly PageWindow _window;
    private readonly long[] _handles;
    private bool _disposed;

    internal MappedGrantRange(ServiceChannel channel, PageWindow window, int domain, long[] handles)
    {
        _channel = channel;
        _window = window;
        _handles = handles;
        Domain = domain;
    }

    public int Domain { get; }

    public int Pages => _window.Pages;

    public int Length => _window.Length;

    public unsafe byte* Pointer => _window.Pointer;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _window.Dispose();
        foreach (var handle in _handles)
        {
            await _channel.UnmapAsync(handle).ConfigureAwait(false);
        }
    }
}
