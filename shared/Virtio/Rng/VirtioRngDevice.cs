using System.Security.Cryptography;
using Disagg.Virtio.Device;
using Disagg.Virtio.Queue;

namespace Disagg.Virtio.Rng;

/// <summary>
/// virtio-rng (virtio 1.x §5.4): one queue of device-writable buffers, each filled with bytes from the
/// host's CSPRNG (.NET's RandomNumberGenerator: getrandom(2) or the OpenSSL DRBG seeded from it).
/// </summary>
public sealed class VirtioRngDevice : IVirtioDevice
{
    public const ushort QueueSize = 64;

    /// <summary>
    /// Bytes given per request at most (§5.4.6.1: the device may write fewer than the buffer holds): a
    /// guest posting a 4 GiB buffer gets 64 KiB, not a second of the device's time.
    /// </summary>
    public const uint MaxBytesPerRequest = 64 * 1024;

    private readonly byte[] _random = new byte[4096];

    public VirtioRngDevice(string name) => Name = name;

    public string Name { get; }

    public VirtioDeviceType Type => VirtioDeviceType.Entropy;

    public ulong Features => 0;

    public int QueueCount => 1;

    public int ConfigSize => 0;

    public long BytesGiven { get; private set; }

    public ushort MaxQueueSize(int queue) => QueueSize;

    public void ReadConfig(int offset, Span<byte> destination)
    {
    }

    public void WriteConfig(int offset, ReadOnlySpan<byte> source)
    {
    }

    public void Attach(IVirtioDeviceHost host)
    {
    }

    public void FeaturesAccepted(ulong features)
    {
    }

    public void Reset()
    {
    }

    public void QueueNotified(Virtqueue queue)
    {
        while (queue.TryPop(out var chain))
        {
            Fill(queue, chain);
            queue.Push(chain);
        }
    }

    private void Fill(Virtqueue queue, DescriptorChain chain)
    {
        if (chain.ReadableLength != 0)
        {
            queue.Fail(VirtioFaultReason.WrongDirection, $"entropy request {chain.Head} has {chain.ReadableLength} device-readable bytes");
            return;
        }

        var want = Math.Min(chain.WritableLength, MaxBytesPerRequest);
        while (want > 0)
        {
            var n = (int)Math.Min(want, (uint)_random.Length);
            var part = _random.AsSpan(0, n);
            RandomNumberGenerator.Fill(part);
            if (chain.Write(part) != n)
            {
                return;
            }

            want -= (uint)n;
            BytesGiven += n;
        }
    }
}
