using Disagg.Virtio.Transport;

namespace Disagg.Virtio.Tests.Driver;

/// <summary>The PLIC side of a device's interrupt line: its level and how often it rose.</summary>
internal sealed class InterruptWire : IInterruptLine
{
    public bool Asserted { get; private set; }

    public int Raises { get; private set; }

    public void SetLevel(bool asserted)
    {
        Assert.NotEqual(Asserted, asserted); // the transport calls only on change
        Asserted = asserted;
        if (asserted)
        {
            Raises++;
        }
    }
}
