using Disagg.Virtio.Net;

namespace Disagg.Virtio.Tests.Driver;

/// <summary>The switch side of a virtio-net device in tests: keeps what the guest sent.</summary>
internal sealed class FramePort : IVirtioNetPort
{
    public List<byte[]> Sent { get; } = [];

    public int BuffersPosted { get; private set; }

    public void Transmit(ReadOnlySpan<byte> frame) => Sent.Add(frame.ToArray());

    public void ReceiveBuffersPosted() => BuffersPosted++;
}
