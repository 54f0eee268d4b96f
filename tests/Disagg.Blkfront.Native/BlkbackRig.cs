using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Service;
using Disagg.TestSupport;
using Disagg.Xenbus;

namespace Disagg.Blkfront.Native;

/// <summary>
/// A host for blkback's end-to-end tests and benchmark, in a temp directory: the real kernel, a real xenstored
/// (socket only), the real disagg-blkback registered as service domain <see cref="BackendDomain"/> (as the
/// toolstack's supervisor starts it), and native frontends attached on demand. Everything is torn down.
/// </summary>
public sealed class BlkbackRig : IAsyncDisposable
{
    public const int BackendDomain = 3;
    private readonly List<NativeBlkfront> _frontends = [];
    private int _nextDomain = 20;

    private BlkbackRig(KernelProcess kernel, KernelClient control, string dir, ServiceProcess xenstored, ServiceProcess blkback, XenstoreClient xs)
    {
        Kernel = kernel;
        Control = control;
        Directory = dir;
        Xenstored = xenstored;
        Blkback = blkback;
        Xs = xs;
    }

    public KernelProcess Kernel { get; }

    public KernelClient Control { get; }

    public string Directory { get; }

    public ServiceProcess Xenstored { get; }

    public ServiceProcess Blkback { get; }

    public XenstoreClient Xs { get; }

    public string File(string name) => Path.Combine(Directory, name);

    public static async Task<BlkbackRig> StartAsync(int pcpus = 1, string[]? blkbackArgs = null)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("disagg-blkback-e2e-").FullName;
        var kernel = await KernelProcess.StartAsync(pcpus, "64M").ConfigureAwait(false);
        var control = await kernel.ConnectAsync().ConfigureAwait(false);
        var socket = Path.Combine(dir, "xenstored.sock");
        var xenstored = new ServiceProcess("disagg-xenstored", ["--socket", socket, "--state-dir", Path.Combine(dir, "xenstored")]);
        await xenstored.StartAsync().ConfigureAwait(false);
        var token = (await control.CallAsync<ServiceRegistered>(new RegisterService("blkback", BackendDomain)).ConfigureAwait(false)).Token;
        var blkback = new ServiceProcess(
            "disagg-blkback",
            ["--xenstore", socket, "--state-dir", Path.Combine(dir, "blkback"), .. blkbackArgs ?? []],
            new Dictionary<string, string>
            {
                [ServiceEnvironment.KernelSocketVariable] = kernel.Socket,
                [ServiceEnvironment.TokenVariable] = token,
                [ServiceEnvironment.DomainIdVariable] = BackendDomain.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        await blkback.StartAsync().ConfigureAwait(false);
        var xs = await XenstoreClient.ConnectAsync(socket, CancellationToken.None, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return new BlkbackRig(kernel, control, dir, xenstored, blkback, xs);
    }

    /// <summary>A new native frontend domain attached to <paramref name="disk"/> (device 0 of that domain).</summary>
    public async Task<NativeBlkfront> AttachAsync(BlkfrontDisk disk, int pages = 128, TimeSpan? timeout = null)
    {
        var front = await NativeBlkfront.AttachAsync(Control, Kernel.Socket, Xs, _nextDomain++, BackendDomain, 0, disk, pages, timeout).ConfigureAwait(false);
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

        Blkback.Dispose();
        await Xs.DisposeAsync().ConfigureAwait(false);
        Xenstored.Dispose();
        await Control.DisposeAsync().ConfigureAwait(false);
        await Kernel.DisposeAsync().ConfigureAwait(false);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
