using System.Globalization;
using System.Text.Json;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// `disagg info`'s keys, the same in the text ("key : value", xl info's layout) and in --json: xl's
/// own names where xl has the figure (host, nr_cpus, total_memory, free_memory in MiB, xen_version,
/// xen_caps), then Disagg's (versions, uptime, state dir, one NAME_socket per socket).
/// </summary>
internal static class InfoKeys
{
    public static IReadOnlyList<(string Key, object Value)> Of(InfoReply info)
    {
        var keys = new List<(string, object)>
        {
            ("host", Environment.MachineName),
            ("nr_cpus", info.Pcpus),
            ("total_memory", info.TotalMemoryMiB),
            ("free_memory", info.FreeMemoryMiB),
            ("xen_version", info.XenInterface),
            ("xen_caps", "riscv64"),
            ("disagg_kernel_version", info.KernelVersion),
            ("toolstack_version", info.ToolstackVersion),
            ("uptime_s", info.UptimeMs / 1000),
            ("state_dir", info.StateDir),
        };
        foreach (var (name, path) in info.Sockets.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            keys.Add((name + "_socket", path));
        }

        return keys;
    }

    public static void PrintText(IReadOnlyList<(string Key, object Value)> keys)
    {
        foreach (var (key, value) in keys)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{key,-23}: {value}"));
        }
    }

    /// <summary>One JSON object, numbers as numbers; written by hand so NativeAOT needs no serializer for it.</summary>
    public static string Json(IReadOnlyList<(string Key, object Value)> keys)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            foreach (var (key, value) in keys)
            {
                switch (value)
                {
                    case int i:
                        json.WriteNumber(key, i);
                        break;
                    case long l:
                        json.WriteNumber(key, l);
                        break;
                    default:
                        json.WriteString(key, value.ToString());
                        break;
                }
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
