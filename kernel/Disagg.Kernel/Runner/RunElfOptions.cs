using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Runner;

/// <summary>Options of `disagg-kernel run-elf`.</summary>
internal sealed record RunElfOptions(string File, ulong MemoryBytes, IsaWidth? Isa, ulong MaxInstructions, bool Stats, HartEngine Engine = HartEngine.Translate, int TranslateAfter = Hart.DefaultTranslateAfter)
{
    public static bool TryParse(string[] args, out RunElfOptions? options, out string error)
    {
        options = null;
        string? file = null;
        ulong memory = 64UL << 20;
        IsaWidth? isa = null;
        var max = ulong.MaxValue;
        var stats = false;
        var engine = HartEngine.Translate; // the interpreter stays the reference: --engine interp
        var translateAfter = Hart.DefaultTranslateAfter;
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (a)
            {
                case "--mem":
                    if (!TryParseSize(Next(), out memory) || memory < 4096 || memory > (1UL << 34))
                    {
                        error = "--mem needs a size such as 64M or 1G (4K to 16G)";
                        return false;
                    }

                    break;
                case "--isa":
                    var v = Next();
                    isa = v switch { "rv64" => IsaWidth.Rv64, "rv32" => IsaWidth.Rv32, _ => null };
                    if (isa is null)
                    {
                        error = "--isa must be rv64 or rv32";
                        return false;
                    }

                    break;
                case "--max-instructions":
                    if (!ulong.TryParse(Next(), out max) || max == 0)
                    {
                        error = "--max-instructions needs a positive number";
                        return false;
                    }

                    break;
                case "--engine":
                    HartEngine? chosen = Next() switch { "interp" => HartEngine.Interpret, "translate" => HartEngine.Translate, _ => null };
                    if (chosen is null)
                    {
                        error = "--engine must be interp or translate";
                        return false;
                    }

                    engine = chosen.Value;
                    break;
                case "--translate-after":
                    if (!int.TryParse(Next(), out translateAfter) || translateAfter is < 0 or > 60000)
                    {
                        error = "--translate-after needs a count from 0 to 60000";
                        return false;
                    }

                    break;
                case "--stats":
                    stats = true;
                    break;
                default:
                    if (a.StartsWith("--", StringComparison.Ordinal) || file is not null)
                    {
                        error = $"unexpected argument '{a}'";
                        return false;
                    }

                    file = a;
                    break;
            }
        }

        if (file is null)
        {
            error = "missing <file.elf>";
            return false;
        }

        options = new RunElfOptions(file, (memory + 0xFFF) & ~0xFFFUL, isa, max, stats, engine, translateAfter);
        error = "";
        return true;
    }

    public static bool TryParseSize(string? text, out ulong bytes)
    {
        bytes = 0;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var shift = char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 0 };
        var digits = shift == 0 ? text : text[..^1];
        if (!ulong.TryParse(digits, out var n) || n > (ulong.MaxValue >> shift))
        {
            return false;
        }

        bytes = n << shift;
        return true;
    }
}
