using Disagg.Interop;

namespace Disagg.Service;

/// <summary>
/// A guest page a service mapped through its grant: exactly that page, shared with the guest (the guest's
/// writes show here and ours there). Dispose unmaps it here and releases the grant in the kernel.
/// </summary>
public sealed class MappedGrant : IAsyncDisposable
{
    private readonly ServiceChannel _channel;
    private readonly SharedMemorySegment _page;
    private bool _disposed;

    internal MappedGrant(ServiceChannel channel, SharedMemorySegment page, int domain, uint gref, long handle, ulong frame, bool readOnly)
    {
        _channel = channel;
        _page = page;
        Domain = domain;
        Ref = gref;
        Handle = handle;
        Frame = frame;
        ReadOnly = readOnly;
    }

    public int Domain { get; }

    public uint Ref { get; }

    public long Handle { get; }

    /// <summary>The guest frame the grant names.</summary>
    public ulong Frame { get; }

    public bool ReadOnly { get; }

    /// <summary>The page's 4096 bytes. Writing to a read-only map faults the process: use <see cref="ReadOnlySpan"/>.</summary>
    public Span<byte> Span => ReadOnly ? throw new InvalidOperationException($"grant {Ref} of domain {Domain} is mapped read-only") : _page.Span;

    public ReadOnlySpan<byte> ReadOnlySpan => _page.Span;

    public unsafe byte* Pointer => _page.Pointer;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _page.Dispose();
        await _channel.UnmapAsync(Handle).ConfigureAwait(false);
    }
}
