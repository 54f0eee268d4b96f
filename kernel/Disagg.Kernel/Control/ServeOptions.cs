using System.Globalization;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Control;

/// <summary>`disagg-kernel serve` arguments: where to listen, how many pCPUs, how much memory for guests.</summary>
internal sealed record ServeOptions(string Socket, int Pcpus, long MemoryBytes, HartEngine Engine = HartEngine.Translate, IsaWidth Arch = IsaWidth.Rv64)
{
    public static bool TryParse(string[] args, out ServeOptions? options, out string error)
    {
        options = null;
        string? socket = null;
        var pcpus = Environment.ProcessorCount;
        long memory = 1L << 30;
        var engine = HartEngine.Translate;
        var arch = IsaWidth.Rv64;
        for (var i = 0; i < args.Length; i++)
        {
            if (i + 1 >= args.Length)
            {
                error = $"{args[i]} needs a value";
                return false;
            }

            var value = args[++i];
            switch (args[i - 1])
            {
                case "--socket":
                    socket = value;
                    break;
                case "--pcpus" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out pcpus) && pcpus is >= 1 and <= 64:
                    break;
                case "--memory" when Runner.RunElfOptions.TryParseSize(value, out var size) && size >= 1 << 20 && size <= long.MaxValue:
                    memory = (long)size;
                    break;
                case "--engine" when value is "interp" or "translate":
                    engine = value == "translate" ? HartEngine.Translate : HartEngine.Interpret;
                    break;
                case "--arch" when value is "rv32" or "rv64":
                    arch = value == "rv32" ? IsaWidth.Rv32 : IsaWidth.Rv64; // an rv32 host runs RV32 guests only
                    break;
                default:
                    error = $"bad option {args[i - 1]} {value}";
                    return false;
            }
        }

        if (socket is null)
        {
            error = "--socket PATH is required";
            return false;
        }

        options = new ServeOptions(socket, pcpus, memory, engine, arch);
        error = "";
        return true;
    }
}
