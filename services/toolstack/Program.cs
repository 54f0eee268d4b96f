using System.CommandLine;
using Disagg.Toolstack.Cli;

// disagg: the xl-compatible command line of the control domain.
var root = new RootCommand("Disagg toolstack: create and manage domains (xl-compatible verbs)")
{
    CreateCommand.Build(),
};
return root.Parse(args).Invoke();
