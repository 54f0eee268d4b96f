using System.Diagnostics;

namespace Disagg.Virtio.Tests.Driver;

/// <summary>Runs qemu-img / qemu-io (the reference implementation our images must agree with).</summary>
internal static class Tool
{
    public static (int Exit, string Output) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }

    public static void Check(string program, params string[] args)
    {
        var (exit, output) = Run(program, args);
        Assert.True(exit == 0, $"{program} {string.Join(' ', args)} exited {exit}: {output}");
    }
}
