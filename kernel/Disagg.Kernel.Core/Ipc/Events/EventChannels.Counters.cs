namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>How many ports are bound host-wide: a leak check's counter (a port left bound after its peer went is a leak).</summary>
public sealed partial class EventChannels
{
    public int BoundPortCount()
    {
        lock (_lock)
        {
            var n = 0;
            foreach (var table in _domains.Values)
            {
                foreach (var _ in table.BoundPorts())
                {
                    n++;
                }
            }

            return n;
        }
    }
}
