namespace Disagg.Blkback.Xenbus;

/// <summary>A frontend's ring page mapped here and our end of its event channel; disposing closes the port and unmaps.</summary>
internal sealed unsafe class FrontendLink(byte* ring, int ringBytes, int localPort, Func<ValueTask> release) : IAsyncDisposable
{
    private int _released;

    public byte* Ring { get; } = ring;

    public int RingBytes { get; } = ringBytes;

    public int LocalPort { get; } = localPort;

    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _released, 1) == 0 ? release() : ValueTask.CompletedTask;
}
