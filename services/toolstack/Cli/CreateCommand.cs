using System.CommandLine;
using System.Text.Json;
using Disagg.Toolstack.Config;

namespace Disagg.Toolstack.Cli;

/// <summary>`disagg create CONFIG`, as xl create: -n/--dryrun parses and prints the domain config without creating it.</summary>
internal static class CreateCommand
{
    public static Command Build()
    {
        var config = new Argument<FileInfo>("CONFIG") { Description = "domain config file in xl.cfg syntax" };
        var dryRun = new Option<bool>("--dryrun", "-n") { Description = "parse and check the config, print it as JSON, create nothing" };
        var command = new Command("create", "create a domain from a config file") { config, dryRun };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(config)!;
            if (!file.Exists)
            {
                Console.Error.WriteLine($"disagg create: config file '{file.FullName}' does not exist");
                return 1;
            }

            DomainConfig domain;
            try
            {
                domain = DomainConfigReader.Read(file.FullName, out var warnings);
                foreach (var w in warnings)
                {
                    Console.Error.WriteLine(w);
                }
            }
            catch (ConfigException e)
            {
                Console.Error.WriteLine($"disagg create: {e.Message}");
                return 1;
            }

            if (parse.GetValue(dryRun))
            {
                Console.WriteLine(JsonSerializer.Serialize(domain, ToolstackJsonContext.Default.DomainConfig));
                return 0;
            }

            Console.Error.WriteLine($"disagg create: domain '{domain.Name}': creating domains needs the host daemon, which this build does not have yet (use -n to check a config)");
            return 1;
        });
        return command;
    }
}
