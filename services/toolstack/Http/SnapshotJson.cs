using System.Text.Json;

namespace Disagg.Toolstack.Http;

/// <summary>
/// A <see cref="HostSnapshot"/> as the dashboard's JSON (one server-sent "state" event): written by hand with
/// Utf8JsonWriter, so NativeAOT needs no serializer metadata. CPU is cumulative seconds; the page turns two
/// samples into a percentage.
/// </summary>
internal static class SnapshotJson
{
    public static byte[] Write(HostSnapshot s)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("t", s.TakenUnixMs);
            json.WriteStartObject("host");
            json.WriteNumber("pcpus", s.Host.Pcpus);
            json.WriteNumber("memory_mib", s.Host.TotalMemoryKiB / 1024);
            json.WriteNumber("free_mib", s.Host.FreeMemoryKiB / 1024);
            json.WriteNumber("uptime_s", s.Host.UptimeNs / 1_000_000_000);
            json.WriteString("kernel", s.Host.KernelVersion);
            json.WriteEndObject();

            json.WriteStartArray("domains");
            foreach (var d in s.Domains)
            {
                json.WriteStartObject();
                json.WriteNumber("id", d.DomainId);
                json.WriteString("name", d.Name);
                json.WriteString("state", HostSnapshot.StateWord(d.State));
                json.WriteBoolean("service", d.IsService);
                json.WriteNumber("memory_kib", d.MemoryKiB);
                json.WriteNumber("max_memory_kib", d.MaxMemoryKiB);
                json.WriteNumber("vcpus", d.VcpusOnline);
                json.WriteNumber("cpu_s", d.CpuTimeNs / 1e9);
                json.WriteStartArray("vcpu_states");
                foreach (var v in s.Vcpus)
                {
                    if (v.DomainId == d.DomainId)
                    {
                        json.WriteStringValue(v.Online ? HostSnapshot.VcpuStateWord(v.State) : "offline");
                    }
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();

            json.WriteStartArray("services");
            foreach (var svc in s.Services)
            {
                json.WriteStartObject();
                json.WriteString("name", svc.Name);
                json.WriteNumber("domain", svc.DomainId);
                if (svc.Pid is { } pid)
                {
                    json.WriteNumber("pid", pid);
                }

                json.WriteString("state", svc.State);
                json.WriteNumber("restarts", svc.Restarts);
                json.WriteNumber("uptime_ms", svc.UptimeMs);
                json.WriteNumber("rss_bytes", svc.RssBytes);
                if (s.LastRestarts.TryGetValue(svc.Name, out var r))
                {
                    json.WriteNumber("last_recovery_ms", Math.Round(r.Downtime.TotalMilliseconds, 1));
                    json.WriteString("last_cause", r.Cause);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
