using System.Globalization;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Hosting;

/// <summary>
/// disagg-xenstored arguments: --socket PATH --state-dir DIR [--kernel-socket PATH --token T | --ring-handoff PATH]
/// [--entries N] [--node-size N] [--watches N] [--transactions N] [--outstanding N] [--transaction-nodes N] [--compact-bytes N].
/// The quota flags carry Xen's defaults (QuotaLimits). Without --kernel-socket, the service environment the host
/// daemon sets (DISAGG_KERNEL_SOCKET, DISAGG_SERVICE_TOKEN) names the kernel, if it is there.
/// </summary>
public sealed record XenstoredOptions(string Socket, string StateDirectory, string? RingHandoff, QuotaLimits Quota, long CompactBytes)
{
    public const string Usage = "usage: disagg-xenstored --socket PATH --state-dir DIR [--kernel-socket PATH --token T | --ring-handoff PATH] [--entries N] [--node-size N] [--watches N] [--transactions N] [--outstanding N] [--transaction-nodes N] [--compact-bytes N]";

    /// <summary>The kernel's control socket, when guests' rings come through the kernel.</summary>
    public string? KernelSocket { get; init; }

    /// <summary>Our service token (RegisterService) for <see cref="KernelSocket"/>.</summary>
    public string? Token { get; init; }

    public static bool TryParse(string[] args, out XenstoredOptions? options, out string error)
    {
        options = null;
        string? socket = null, state = null, handoff = null, kernel = null, token = null;
        var quota = new QuotaLimits();
        long compact = 8 << 20;
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                error = $"{args[i]} needs a value";
                return false;
            }

            var value = args[i + 1];
            var number = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= int.MaxValue;
            switch (args[i])
            {
                case "--socket": socket = value; break;
                case "--state-dir": state = value; break;
                case "--ring-handoff": handoff = value; break;
                case "--kernel-socket": kernel = value; break;
                case "--token": token = value; break;
                case "--entries" when number: quota = quota with { EntriesPerDomain = (int)n }; break;
                case "--node-size" when number: quota = quota with { NodeSize = (int)n }; break;
                case "--watches" when number: quota = quota with { WatchesPerDomain = (int)n }; break;
                case "--transactions" when number: quota = quota with { TransactionsPerDomain = (int)n }; break;
                case "--outstanding" when number: quota = quota with { OutstandingRequests = (int)n }; break;
                case "--transaction-nodes" when number: quota = quota with { NodesPerTransaction = (int)n }; break;
                case "--compact-bytes" when number: compact = n; break;
                default:
                    error = $"bad option {args[i]} {value}";
                    return false;
            }
        }

        if (socket is null || state is null)
        {
            error = "--socket PATH and --state-dir DIR are required";
            return false;
        }

        if ((kernel is null) != (token is null))
        {
            error = "--kernel-socket PATH and --token T go together";
            return false;
        }

        if (kernel is not null && handoff is not null)
        {
            error = "rings come from the kernel or from --ring-handoff, not both";
            return false;
        }

        options = new XenstoredOptions(socket, state, handoff, quota, compact) { KernelSocket = kernel, Token = token };
        error = "";
        return true;
    }
}
