using System.CommandLine;
using Disagg.DiskImage;
using Disagg.Toolstack.Config;
using Spectre.Console;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// `disagg new`: a wizard that asks for a guest's name, kernel, vCPUs, memory, disk (size and
/// format) and network, creates the disk image and writes an xl.cfg file. Every answer can be given
/// as a flag; a field without a flag is asked for when stdin and stdout are a terminal, and takes its
/// default otherwise (name and kernel have none). Each error names its field.
/// </summary>
internal static class NewCommand
{
    public static Command Build()
    {
        var name = new Argument<string?>("NAME") { Description = "the guest's name", Arity = ArgumentArity.ZeroOrOne };
        var type = new Option<string?>("--type") { Description = "pv (default: our guest OS, an ELF image) or hvm (an unmodified kernel or U-Boot, devices from qemu-dm)" };
        var kernel = new Option<string?>("--kernel", "-k") { Description = "the guest's kernel: an ELF image for pv (a pvos.elf from guests/build), a Linux RISC-V Image, an RV64 ELF or a raw binary (U-Boot) for hvm" };
        var ramdisk = new Option<string?>("--ramdisk") { Description = "an initramfs for the kernel, or none (default none)" };
        var vcpus = new Option<string?>("--vcpus") { Description = "vCPUs, 1-32 (default 1)" };
        var memory = new Option<string?>("--memory", "-m") { Description = "memory: MiB, or with a suffix m, g (default 128)" };
        var diskSize = new Option<string?>("--disk-size") { Description = "disk size like 512M or 4G, or none (default none; the wizard offers 1G)" };
        var diskFormat = new Option<string?>("--disk-format") { Description = "raw (sparse file) or qcow2 (default raw)" };
        var disk = new Option<string?>("--disk") { Description = "where to create the disk image (default NAME.img or NAME.qcow2 beside the config)" };
        var bridge = new Option<string?>("--bridge") { Description = "the bridge its network interface joins, or none (default none; the wizard offers xenbr0)" };
        var cmdline = new Option<string?>("--cmdline") { Description = $"the guest's command line (pvos: app=hello, app=blk-verify ...; hvm default: {GuestTemplate.HvmCommandLine})" };
        var output = new Option<string?>("--output", "-o") { Description = "the config file to write (default ./NAME.cfg)" };
        var force = new Option<bool>("--force") { Description = "overwrite an existing config file (a disk image is never overwritten)" };
        var batch = new Option<bool>("--non-interactive") { Description = "never prompt: missing fields take their defaults, a missing name or kernel is an error" };
        var command = new Command("new", "create a guest: a wizard for its config file and disk image (every answer can also be a flag)")
        {
            name, type, kernel, ramdisk, vcpus, memory, diskSize, diskFormat, disk, bridge, cmdline, output, force, batch,
        };
        Verb.SetAction(command, (parse, _) =>
        {
            var ask = !parse.GetValue(batch) && !Console.IsInputRedirected && !Console.IsOutputRedirected;
            var answers = new Answers(ask);
            var guestName = answers.Field("name", parse.GetValue(name), null, GuestTemplate.CheckName);
            var guestType = DomainType.Pv;
            answers.Choice("type", parse.GetValue(type), ["pv", "hvm"], t => GuestTemplate.CheckType(t, out guestType));
            var hvm = guestType == DomainType.Hvm;
            var kernelPath = Path.GetFullPath(answers.Field("kernel", parse.GetValue(kernel), null, k => GuestTemplate.CheckKernel(Path.GetFullPath(k), guestType)));
            var ramdiskPath = hvm || parse.GetValue(ramdisk) is not null // the wizard asks only for an hvm guest's (pvos needs none)
                ? answers.Field("ramdisk", parse.GetValue(ramdisk), "none", r => GuestTemplate.CheckRamdisk(r == "none" ? r : Path.GetFullPath(r)))
                : "none";
            var vcpuCount = 0;
            answers.Field("vcpus", parse.GetValue(vcpus), "1", v => GuestTemplate.TryVcpus(v, out vcpuCount));
            long memoryMiB = 0;
            answers.Field("memory", parse.GetValue(memory), "128", m => GuestTemplate.TryMemory(m, out memoryMiB));
            long diskBytes = 0;
            answers.Field("disk-size", parse.GetValue(diskSize), ask && !hvm ? "1G" : "none", s => GuestTemplate.TryDiskSize(s, out diskBytes));
            var format = DiskFormat.Raw;
            if (diskBytes > 0)
            {
                answers.Choice("disk-format", parse.GetValue(diskFormat), ["raw", "qcow2"], f => GuestTemplate.TryDiskFormat(f, out format));
            }

            var network = answers.Field("bridge", parse.GetValue(bridge), ask && !hvm ? "xenbr0" : "none", GuestTemplate.CheckBridge);
            var config = Path.GetFullPath(parse.GetValue(output) ?? guestName + ".cfg");
            if (File.Exists(config) && !parse.GetValue(force))
            {
                throw new CliException($"output: {config} exists (--force overwrites it)");
            }

            var diskPath = diskBytes == 0 ? null : Path.GetFullPath(parse.GetValue(disk)
                ?? Path.Combine(Path.GetDirectoryName(config)!, guestName + (format == DiskFormat.Qcow2 ? ".qcow2" : ".img")));
            if (diskPath is not null && File.Exists(diskPath))
            {
                throw new CliException($"disk: {diskPath} exists (an image is never overwritten; give another --disk or remove it)");
            }

            var template = new GuestTemplate
            {
                Name = guestName,
                Type = guestType,
                Kernel = kernelPath,
                Ramdisk = ramdiskPath == "none" ? null : Path.GetFullPath(ramdiskPath),
                Vcpus = vcpuCount,
                MemoryMiB = memoryMiB,
                DiskBytes = diskBytes,
                DiskFormat = format,
                DiskPath = diskPath,
                Bridge = network == "none" ? null : network,
                CommandLine = parse.GetValue(cmdline) ?? (hvm ? GuestTemplate.HvmCommandLine : ""),
            };
            if (ask && !AnsiConsole.Confirm($"Write [bold]{Markup.Escape(config)}[/]{(diskPath is null ? "" : $" and create [bold]{Markup.Escape(diskPath)}[/]")}?"))
            {
                Console.Error.WriteLine("nothing written");
                return Task.FromResult(1);
            }

            Write(template, config);
            Console.WriteLine($"wrote {config}{(diskPath is null ? "" : $"; created {diskPath} ({format.ToString().ToLowerInvariant()}, {diskBytes / (double)GuestTemplate.MiB:0.#} MiB)")}; start it with `disagg create {config}`");
            return Task.FromResult(0);
        });
        return command;
    }

    private static void Write(GuestTemplate template, string config)
    {
        try
        {
            template.CreateDisk();
        }
        catch (Exception e) when (e is DiskImageException or IOException or UnauthorizedAccessException)
        {
            throw new CliException($"disk: cannot create {template.DiskPath}: {e.Message}");
        }

        try
        {
            File.WriteAllText(config, template.ToConfigText());
            DomainConfigReader.Read(config, out _); // what we wrote must be what `create` reads
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ConfigException)
        {
            if (template.DiskPath is not null)
            {
                File.Delete(template.DiskPath);
            }

            throw new CliException($"output: cannot write {config}: {e.Message}");
        }
    }

    /// <summary>Each field from its flag, else a prompt (when asking), else its default; a bad value names the field.</summary>
    private sealed class Answers(bool ask)
    {
        public string Field(string field, string? given, string? fallback, Func<string, string?> check)
        {
            if (given is not null)
            {
                return Checked(field, given, check);
            }

            if (!ask)
            {
                return fallback is null
                    ? throw new CliException($"{field}: required (give {(field == "name" ? "NAME" : "--" + field)}, or run `disagg new` in a terminal to be asked)")
                    : Checked(field, fallback, check);
            }

            var prompt = new TextPrompt<string>($"[bold]{field}[/]?").Validate(v => check(v.Trim()) is { } error ? ValidationResult.Error($"[red]{Markup.Escape(error)}[/]") : ValidationResult.Success());
            if (fallback is not null)
            {
                prompt.DefaultValue(fallback);
            }

            var answer = AnsiConsole.Prompt(prompt).Trim();
            check(answer); // sets the caller's parsed value for the answer finally taken
            return answer;
        }

        public string Choice(string field, string? given, string[] choices, Func<string, string?> check)
        {
            if (given is not null || !ask)
            {
                return Checked(field, given ?? choices[0], check);
            }

            var answer = AnsiConsole.Prompt(new SelectionPrompt<string>().Title($"[bold]{field}[/]?").AddChoices(choices));
            return Checked(field, answer, check);
        }

        private static string Checked(string field, string value, Func<string, string?> check) =>
            check(value) is { } error ? throw new CliException($"{field}: {error}") : value;
    }
}
