using Disagg.Control.Messages;

namespace Disagg.Service.Faults;

/// <summary>
/// The faults a service has been asked to inject into its own channels, armed by <see cref="FaultSocket"/> and taken
/// by the decorators that fire them (<see cref="FaultingBackendChannel"/>, blkback's disk, xenstored's journal).
/// It exists only in a service started by a host with fault injection on (DISAGG_FAULT_SOCKET set, see
/// <see cref="FromEnvironment"/>): a normal service has none, builds no decorator, and its data path runs the same
/// code as ever, so injection costs it nothing. Thread-safe: armed from the socket's task, taken on the data path.
/// </summary>
public sealed class ChannelFaults
{
    /// <summary>The environment variable a fault-injection host sets for its services: where to listen for faults.</summary>
    public const string SocketVariable = "DISAGG_FAULT_SOCKET";

    private static readonly int Kinds = Enum.GetValues<ChannelFaultKind>().Length;
    private readonly int[] _armed = new int[Kinds];
    private readonly long[] _fired = new long[Kinds];
    private int _delayMs = 100;

    public ChannelFaults(string socketPath)
    {
        SocketPath = socketPath;
    }

    /// <summary>Where <see cref="FaultSocket"/> listens (the host's state dir).</summary>
    public string SocketPath { get; }

    /// <summary>How long a delayed notification is held back.</summary>
    public int DelayMs => Volatile.Read(ref _delayMs);

    /// <summary>The faults of this process, or null (the normal case) when its host did not enable injection.</summary>
    public static ChannelFaults? FromEnvironment() =>
        Environment.GetEnvironmentVariable(SocketVariable) is { Length: > 0 } path ? new ChannelFaults(path) : null;

    /// <summary>Arms <paramref name="count"/> more faults of <paramref name="kind"/>; returns how many are armed now.</summary>
    public int Arm(ChannelFaultKind kind, int count, int delayMs)
    {
        if ((uint)kind >= (uint)Kinds)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a channel fault");
        }

        if (count is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "1..1000 faults at a time");
        }

        if (kind == ChannelFaultKind.RingDelay)
        {
            Volatile.Write(ref _delayMs, Math.Clamp(delayMs, 1, 10_000));
        }

        return Interlocked.Add(ref _armed[(int)kind], count);
    }

    /// <summary>Disarms every pending fault of <paramref name="kind"/> (a fault run's end: none outlives it).</summary>
    public void Disarm(ChannelFaultKind kind) => Interlocked.Exchange(ref _armed[(int)kind], 0);

    /// <summary>Takes one armed fault of <paramref name="kind"/>: true when the caller must fire it now.</summary>
    public bool TryTake(ChannelFaultKind kind)
    {
        ref var armed = ref _armed[(int)kind];
        while (true)
        {
            var n = Volatile.Read(ref armed);
            if (n == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref armed, n - 1, n) == n)
            {
                Interlocked.Increment(ref _fired[(int)kind]);
                return true;
            }
        }
    }

    /// <summary>Whether any fault of <paramref name="kind"/> is armed (no side effect).</summary>
    public bool Armed(ChannelFaultKind kind) => Volatile.Read(ref _armed[(int)kind]) > 0;

    public int ArmedCount(ChannelFaultKind kind) => Volatile.Read(ref _armed[(int)kind]);

    /// <summary>How many faults of <paramref name="kind"/> this process fired.</summary>
    public long Fired(ChannelFaultKind kind) => Interlocked.Read(ref _fired[(int)kind]);
}
