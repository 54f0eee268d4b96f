using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// xl's hot plug verbs: block-attach/-detach/-list (disks in xl's disk spec syntax) and
/// network-attach/-detach/-list (vifs in xl's vif syntax). The spec is checked here first, so a
/// typo is reported before the daemon is asked; the daemon writes the xenbus directories.
/// </summary>
internal static class DeviceCommands
{
    public static IEnumerable<Command> Build()
    {
        yield return Attach("block-attach", "hot-plug a disk: DISK is an xl disk spec ('format=qcow2, vdev=xvdb, access=rw, target=/path' or '/path,raw,xvdb,rw')", DeviceKind.Vbd);
        yield return Detach("block-detach", "VDEV", "the disk's vdev (xvdb) or its number (51728)", DeviceKind.Vbd);
        yield return List("block-list", "a domain's disks: Vdev BE handle state evt-ch ring-ref BE-path", DeviceKind.Vbd);
        yield return Attach("network-attach", "hot-plug a network interface: VIF is an xl vif spec ('mac=00:16:3e:00:00:02, bridge=xenbr0')", DeviceKind.Vif);
        yield return Detach("network-detach", "DEVID", "the vif's index (see network-list) or its MAC", DeviceKind.Vif);
        yield return List("network-list", "a domain's network interfaces: Idx BE Mac handle state evt-ch tx-/rx-ring-ref BE-path", DeviceKind.Vif);
    }

    private static Command Attach(string name, string description, DeviceKind kind)
    {
        var domain = Verb.DomainArgument();
        var spec = new Argument<string[]>(kind == DeviceKind.Vbd ? "DISK" : "VIF")
        {
            Description = "the device spec; several words are joined with commas, as xl does",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command(name, description) { domain, spec };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var text = string.Join(',', parse.GetValue(spec)!);
            var at = new ConfigPosition(name, 1, 1);
            try
            {
                _ = kind == DeviceKind.Vbd ? (object)DiskSpec.Parse(text, at) : VifSpec.Parse(text, at);
            }
            catch (ConfigException e)
            {
                throw new CliException($"domain '{parse.GetValue(domain)}': {e.Reason}");
            }

            var ok = await Waiting.WhileAsync(
                $"attaching to {parse.GetValue(domain)}, waiting for its backend",
                () => Verb.CallAsync<OkReply>(parse, new DeviceAttachRequest(parse.GetValue(domain)!, kind, text), cancel)).ConfigureAwait(false);
            Console.WriteLine(ok.Message);
            return 0;
        });
        return command;
    }

    private static Command Detach(string name, string what, string whatDescription, DeviceKind kind)
    {
        var domain = Verb.DomainArgument();
        var device = new Argument<string>(what) { Description = whatDescription };
        var force = new Option<bool>("--force", "-f") { Description = "remove the device even when its backend does not close in time" };
        var timeout = new Option<int>("--timeout", "-t") { Description = "seconds the backend gets to close the device (default 10)", DefaultValueFactory = _ => 10 };
        var command = new Command(name, $"hot-unplug a {(kind == DeviceKind.Vbd ? "disk" : "network interface")}: its backend is asked to close (state Closing), and once it is Closed the device is removed") { domain, device, force, timeout };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var seconds = parse.GetValue(timeout);
            if (seconds is < 0 or > 3600)
            {
                throw new CliException($"--timeout {seconds}: must be 0..3600 seconds");
            }

            var ok = await Waiting.WhileAsync(
                $"detaching {parse.GetValue(device)} from {parse.GetValue(domain)}, waiting for its backend to close",
                () => Verb.CallAsync<OkReply>(parse, new DeviceDetachRequest(parse.GetValue(domain)!, kind, parse.GetValue(device)!, parse.GetValue(force), seconds), cancel)).ConfigureAwait(false);
            Console.WriteLine(ok.Message);
            return 0;
        });
        return command;
    }

    private static Command List(string name, string description, DeviceKind kind)
    {
        var domain = Verb.DomainArgument();
        var json = Verb.JsonOption();
        var command = new Command(name, description) { domain, json };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var reply = await Verb.CallAsync<DeviceListReply>(parse, new DeviceListRequest(parse.GetValue(domain)!, kind), cancel).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(reply.Devices, ToolstackJsonContext.Default.IReadOnlyListDeviceRow));
                return 0;
            }

            static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
            if (kind == DeviceKind.Vbd)
            {
                Tables.Print(
                    ["Vdev", "BE", "handle", "state", "evt-ch", "ring-ref", "BE-path", "dev"],
                    reply.Devices.Select(d => (IReadOnlyList<string>)[N(d.Devid), N(d.BackendDomain), N(d.Handle), N(d.State), N(d.EventChannel), d.RingRef, d.BackendPath, d.Name]),
                    new HashSet<int> { 0, 1, 2, 3, 4, 5 });
            }
            else
            {
                Tables.Print(
                    ["Idx", "BE", "Mac Addr.", "handle", "state", "evt-ch", "tx-/rx-ring-ref", "BE-path"],
                    reply.Devices.Select(d => (IReadOnlyList<string>)[N(d.Devid), N(d.BackendDomain), d.Name, N(d.Handle), N(d.State), N(d.EventChannel), d.RingRef, d.BackendPath]),
                    new HashSet<int> { 0, 1, 3, 4, 5 });
            }

            foreach (var d in reply.Devices.Where(d => d.Error is not null))
            {
                await Console.Error.WriteLineAsync($"{(kind == DeviceKind.Vbd ? d.Name : "vif " + N(d.Devid))}: backend error: {d.Error}").ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }
}
