using Disagg.Virtio.Transport;

namespace Disagg.Bench.Virtio;

/// <summary>An interrupt line with no controller behind it: the benchmark's driver polls the used ring.</summary>
internal sealed class NoLine : IInterruptLine
{
    public void SetLevel(bool asserted)
    {
    }
}
