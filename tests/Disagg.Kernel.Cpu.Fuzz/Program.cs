using System.Globalization;
using Disagg.Kernel.Cpu;
using Disagg.Kernel.Cpu.Fuzz;

// disagg-cpu-fuzz [--seconds N] [--seed S] [--engine interp|translate]: exit 0 when every program behaved.
const string Usage = "usage: disagg-cpu-fuzz [--seconds N] [--seed S] [--engine interp|translate]";
var seconds = 60.0;
var seed = 1;
var engine = HartEngine.Interpret;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    var ok = args[i] switch
    {
        "--seconds" => double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out seconds),
        "--seed" => int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out seed),
        "--engine" => TryEngine(args[i + 1], out engine),
        _ => false,
    };
    if (!ok)
    {
        Console.Error.WriteLine(Usage);
        return 2;
    }
}

if (args.Length % 2 != 0)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var report = HartFuzzer.Run(seed, TimeSpan.FromSeconds(seconds), engine: engine);
Console.WriteLine(FormattableString.Invariant(
    $"fuzz: {engine} seed {seed} programs {report.Programs} instructions {report.Instructions} traps {report.Traps} sbi-calls {report.SbiCalls} idles {report.Idles}"));
if (report.Failure is not null)
{
    Console.WriteLine("fuzz: FAILED " + report.Failure);
    return 1;
}

Console.WriteLine("fuzz: ok");
return 0;

static bool TryEngine(string text, out HartEngine engine)
{
    engine = text == "translate" ? HartEngine.Translate : HartEngine.Interpret;
    return text is "interp" or "translate";
}
