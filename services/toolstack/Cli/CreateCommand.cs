using System.CommandLine;
using System.Text.Json;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// `disagg create CONFIG [KEY=VALUE...]`, as xl create: the domain is created paused, its kernel
/// loaded, then unpaused (-p leaves it paused; -c attaches its console); each KEY=VALUE is an
/// xl.cfg statement that replaces the file's setting; -n/--dryrun parses and prints the config
/// without creating anything. The config is checked here first, so errors name file, line and
/// column before the daemon is asked.
/// </summary>
internal static class CreateCommand
{
    public static Command Build()
    {
        var config = new Argument<FileInfo>("CONFIG") { Description = "domain config file in xl.cfg syntax" };
        var overrides = new Argument<string[]>("KEY=VALUE") { Description = "settings that replace the file's, in xl.cfg syntax (memory=256 'name=\"web2\"')", Arity = ArgumentArity.ZeroOrMore };
        var dryRun = new Option<bool>("--dryrun", "-n") { Description = "parse and check the config, print it as JSON, create nothing" };
        var paused = new Option<bool>("--paused", "-p") { Description = "leave the domain paused after creating it" };
        var console = new Option<bool>("--console", "-c") { Description = "attach to the domain's console once it is created" };
        var command = new Command("create", "create a domain from a config file") { config, overrides, dryRun, paused, console };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var file = parse.GetValue(config)!;
            var extra = parse.GetValue(overrides) ?? [];
            if (Directory.Exists(file.FullName))
            {
                throw CliException.Usage($"config '{file.FullName}' is a directory, not a config file");
            }

            if (!file.Exists)
            {
                throw new CliException($"config file '{file.FullName}' does not exist");
            }

            DomainConfig domain;
            try
            {
                domain = DomainConfigReader.Read(file.FullName, extra, out var warnings);
                foreach (var w in warnings)
                {
                    await Console.Error.WriteLineAsync(w).ConfigureAwait(false);
                }
            }
            catch (ConfigException e)
            {
                throw new CliException(e.Message);
            }

            if (parse.GetValue(dryRun))
            {
                Console.WriteLine(JsonSerializer.Serialize(domain, ToolstackJsonContext.Default.DomainConfig));
                return 0;
            }

            var created = await Verb.CallAsync<CreatedReply>(parse, new CreateRequest(file.FullName, parse.GetValue(paused), extra), cancel).ConfigureAwait(false);
            Console.WriteLine($"created domain '{created.Name}' (id {created.DomainId}){(parse.GetValue(paused) ? ", paused" : "")}");
            return parse.GetValue(console)
                ? await ConsoleCommand.AttachAsync(Verb.State(parse), created.DomainId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancel).ConfigureAwait(false)
                : 0;
        });
        return command;
    }
}
