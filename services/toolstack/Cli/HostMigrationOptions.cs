using System.CommandLine;
using Disagg.Toolstack.Host;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// `host up`'s options for migration and the 32-bit rule: --arch rv32|rv64 (an rv32 host offers RV32 harts
/// only and refuses RV64 guests), --listen ADDR:PORT with --migration-token or --migration-key-file (incoming
/// migrations; anyone without the key is refused).
/// </summary>
internal sealed class HostMigrationOptions
{
    private readonly Option<string?> _arch = new("--arch") { Description = "rv64 (default) or rv32: an rv32 host runs RV32 guests only" };
    private readonly Option<string?> _listen = new("--listen") { Description = "accept incoming migrations on ADDR:PORT (TCP)" };
    private readonly Option<string?> _token = new("--migration-token") { Description = "the secret a migrating host must know (at least 16 bytes)" };
    private readonly Option<FileInfo?> _keyFile = new("--migration-key-file") { Description = "a file holding that secret" };

    public static HostMigrationOptions AddTo(Command up)
    {
        var o = new HostMigrationOptions();
        o._arch.AcceptOnlyFromAmong("rv32", "rv64");
        up.Options.Add(o._arch);
        up.Options.Add(o._listen);
        up.Options.Add(o._token);
        up.Options.Add(o._keyFile);
        return o;
    }

    public HostConfig Apply(ParseResult parse, HostConfig config)
    {
        if (parse.GetValue(_arch) is { } arch)
        {
            config = config with { Arch = arch };
        }

        var token = parse.GetValue(_token);
        var keyFile = parse.GetValue(_keyFile)?.FullName;
        if (parse.GetValue(_listen) is not { } listen)
        {
            return token is null && keyFile is null ? config : throw CliException.Usage("--migration-token and --migration-key-file go with --listen");
        }

        try
        {
            Migration.MigrationListener.Parse(listen, "--listen");
            return config with { MigrationListen = listen, MigrationKey = Migration.MigrationKey.From(token, keyFile, "--listen") };
        }
        catch (HostConfigException e)
        {
            throw CliException.Usage(e.Message);
        }
    }

    /// <summary>The same options for the daemonized `host up --foreground`.</summary>
    public void Forward(ParseResult parse, List<string> args)
    {
        Add(args, "--arch", parse.GetValue(_arch));
        Add(args, "--listen", parse.GetValue(_listen));
        Add(args, "--migration-token", parse.GetValue(_token));
        Add(args, "--migration-key-file", parse.GetValue(_keyFile)?.FullName);
    }

    private static void Add(List<string> args, string name, string? value)
    {
        if (value is not null)
        {
            args.AddRange([name, value]);
        }
    }
}
