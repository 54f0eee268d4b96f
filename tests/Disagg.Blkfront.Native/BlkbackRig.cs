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

    /// <summary>blkback's --state-dir (its lock and its status file).</summary>
    public string StateDirectory => Path.Combine(Directory, "blkback");

    public string File(string name) => Path.Combine(Directory, name);

    /// <summary>
    /// The status file line whose name (first word) is <paramref name="name"/> ("loop", "vbd20.0"), as key=value
    /// pairs, once <paramref name="until"/> holds for it (the file is rewritten every 500 ms).
    /// </summary>
    public async Task<Dictionary<string, string>> StatusAsync(string name, Func<Dictionary<string, string>, bool>? until = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        var path = Path.Combine(StateDirectory, "status");
        while (true)
        {
            // Replaced by rename, so a read sees one whole version of the file.
            var last = System.IO.File.Exists(path) ? System.IO.File.ReadAllLines(path).FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal)) : null;
            if (last is not null)
            {
                var fields = last.Split(' ').Skip(1).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
                if (until is null || until(fields))
                {
                    return fields;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"status line '{name}' never matched; last: {last ?? "(none)"}\n{Blkback.StdErr}");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

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
