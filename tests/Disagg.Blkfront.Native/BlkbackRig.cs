using Disagg.Control;
using Disagg.TestSupport;
using Disagg.Xenbus;

namespace Disagg.Blkfront.Native;

/// <summary>
/// blkback's test host, for its end-to-end tests and benchmark: a <see cref="BackendRig"/> running the real
/// disagg-blkback as service domain <see cref="BackendDomain"/>, a xenstore client, and native frontends attached
/// on demand. Frontends are torn down first, then the rig.
/// </summary>
public sealed class BlkbackRig : IAsyncDisposable
{
    public const int BackendDomain = 3;
    private readonly List<NativeBlkfront> _frontends = [];
    private int _nextDomain = 20;

    private BlkbackRig(BackendRig rig, XenstoreClient xs)
    {
        Rig = rig;
        Xs = xs;
    }

    public BackendRig Rig { get; }

    public KernelProcess Kernel => Rig.Kernel;

    public KernelClient Control => Rig.Control;

    public string Directory => Rig.Directory;

    public ServiceProcess Xenstored => Rig.Xenstored;

    public ServiceProcess Blkback => Rig.Backend;

    public XenstoreClient Xs { get; }

    /// <summary>blkback's --state-dir (its lock and its status file).</summary>
    public string StateDirectory => Rig.StateDirectory;

    public string File(string name) => Rig.File(name);

    /// <inheritdoc cref="BackendRig.StatusAsync"/>
    public Task<Dictionary<string, string>> StatusAsync(string name, Func<Dictionary<string, string>, bool>? until = null, TimeSpan? timeout = null) =>
        Rig.StatusAsync(name, until, timeout);

    public static async Task<BlkbackRig> StartAsync(int pcpus = 1, string[]? blkbackArgs = null)
    {
        var rig = await BackendRig.StartAsync("disagg-blkback", "blkback", BackendDomain, blkbackArgs, pcpus: pcpus).ConfigureAwait(false);
        var xs = await XenstoreClient.ConnectAsync(rig.XenstoreSocket, CancellationToken.None, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return new BlkbackRig(rig, xs);
    }

    /// <summary>A new native frontend domain attached to <paramref name="disk"/> (device 0 of that domain).</summary>
    public async Task<NativeBlkfront> AttachAsync(BlkfrontDisk disk, int pages = 128, TimeSpan? timeout = null, int ringPageOrder = 0)
    {
        var front = await NativeBlkfront.AttachAsync(Control, Kernel.Socket, Xs, _nextDomain++, BackendDomain, 0, disk, pages, timeout, ringPageOrder).ConfigureAwait(false);
        _frontends.Add(front);
        return front;
    }

    /// <summary>Detaches <paramref name="front"/> (its directories go; blkback closes the image).</summary>
    public async Task DetachAsync(NativeBlkfront front)
    {
        _frontends.Remove(front);
        await front.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var f in _frontends)
        {
            await f.DisposeAsync().ConfigureAwait(false);
        }

        // blkback before the xenstore client, as before: the rig stops the backend first.
        Rig.Backend.Dispose();
        await Xs.DisposeAsync().ConfigureAwait(false);
        await Rig.DisposeAsync().ConfigureAwait(false);
    }
}
