using Disagg.QemuDm.Net;
using Disagg.QemuDm.Virtio;

namespace Disagg.QemuDm.Hosting;

/// <summary>
/// The command line: the HVM domain served, where device state survives a restart, the console's Unix
/// socket (QEMU's `-serial unix:PATH,server`: the toolstack's console and tests connect there), and the
/// virtio devices in slot order (<see cref="VirtioDeviceSpec"/>: `--disk` and `--nic` repeatable, `--rng`).
/// A NIC's vif is found and connected to netback through xenstore (`--xenstore`).
/// </summary>
internal sealed record QemuDmOptions(int Domain, string StateDirectory, string ConsoleSocket, IReadOnlyList<VirtioDeviceSpec> Devices)
{
    public const string Usage = "usage: disagg-qemu-dm --domain N --state-dir DIR --console-socket PATH [--disk /ABS/PATH,format=raw|qcow2[,ro]]... [--rng] [--xenstore SOCKET --nic mac=MAC,bridge=NAME[,backend=NETBACK]...]";

    /// <summary>xenstored's socket (required with a NIC).</summary>
    public string? XenstoreSocket { get; init; }

    /// <summary>The NICs, in command-line order (the n-th is the vif device n of qemu-dm's domain).</summary>
    public IReadOnlyList<NicOption> Nics => [.. Devices.OfType<VirtioDeviceSpec.Nic>().Select(n => n.Option)];

    public string StateFile => Path.Combine(StateDirectory, $"qemu-dm-{Domain}.uart");

    public static bool TryParse(string[] args, out QemuDmOptions? options, out string? error)
    {
        options = null;
        error = null;
        int? domain = null;
        string? state = null, console = null, xenstore = null;
        var devices = new List<VirtioDeviceSpec>();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--domain" when value != null && int.TryParse(value, out var d) && d > 0:
                    domain = d;
                    i++;
                    break;
                case "--state-dir" when value != null:
                    state = value;
                    i++;
                    break;
                case "--console-socket" when value != null:
                    console = value;
                    i++;
                    break;
                case "--disk" when value != null:
                    if (VirtioDeviceSpec.ParseDisk(value, out error) is not { } disk)
                    {
                        return false;
                    }

                    devices.Add(disk);
                    i++;
                    break;
                case "--nic" when value != null:
                    if (!NicOption.TryParse(value, out var nic, out error))
                    {
                        return false;
                    }

                    devices.Add(new VirtioDeviceSpec.Nic(nic!));
                    i++;
                    break;
                case "--xenstore" when value != null:
                    xenstore = value;
                    i++;
                    break;
                case "--rng":
                    devices.Add(new VirtioDeviceSpec.Rng());
                    break;
                default:
                    error = $"qemu-dm: bad argument '{args[i]}'{(value == null ? " (missing value)" : string.Empty)}";
                    return false;
            }
        }

        if (domain is null || state is null || console is null)
        {
            error = "qemu-dm: --domain, --state-dir and --console-socket are required";
            return false;
        }

        if (devices.Count > VirtioSlot.Count)
        {
            error = $"qemu-dm: {devices.Count} virtio devices; QEMU virt has {VirtioSlot.Count} virtio-mmio slots";
            return false;
        }

        if (xenstore is null && devices.OfType<VirtioDeviceSpec.Nic>().Any())
        {
            error = "qemu-dm: --nic needs --xenstore (the vif is connected to netback through xenstore)";
            return false;
        }

        options = new QemuDmOptions(domain.Value, state, console, devices) { XenstoreSocket = xenstore };
        return true;
    }
}
