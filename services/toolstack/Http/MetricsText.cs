using System.Globalization;
using System.Text;

namespace Disagg.Toolstack.Http;

/// <summary>
/// A <see cref="HostSnapshot"/> in Prometheus' text exposition format (version 0.0.4): HELP and TYPE once
/// per family, then its samples, label values escaped (backslash, quote, newline). Names are disagg_*;
/// the backends' status files add disagg_backend_FIELD{service,name}.
/// </summary>
internal static class MetricsText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(HostSnapshot s)
    {
        var text = new StringBuilder(4096);
        Family(text, "disagg_host_memory_bytes", "gauge", "Memory the kernel has for guests.");
        Sample(text, "disagg_host_memory_bytes", "", s.Host.TotalMemoryKiB * 1024.0);
        Family(text, "disagg_host_free_memory_bytes", "gauge", "Memory for guests not yet given to a domain.");
        Sample(text, "disagg_host_free_memory_bytes", "", s.Host.FreeMemoryKiB * 1024.0);
        Family(text, "disagg_host_pcpus", "gauge", "Physical CPUs the kernel schedules on.");
        Sample(text, "disagg_host_pcpus", "", s.Host.Pcpus);
        Family(text, "disagg_host_uptime_seconds", "gauge", "Time since the kernel started.");
        Sample(text, "disagg_host_uptime_seconds", "", s.Host.UptimeNs / 1e9);

        Family(text, "disagg_domain_cpu_seconds_total", "counter", "CPU time all of a domain's vCPUs have run.");
        foreach (var d in s.Domains)
        {
            Sample(text, "disagg_domain_cpu_seconds_total", DomainLabels(d.DomainId, d.Name), d.CpuTimeNs / 1e9);
        }

        Family(text, "disagg_domain_memory_bytes", "gauge", "Memory a domain has (populated pages).");
        foreach (var d in s.Domains)
        {
            Sample(text, "disagg_domain_memory_bytes", DomainLabels(d.DomainId, d.Name), d.MemoryKiB * 1024.0);
        }

        Family(text, "disagg_domain_max_memory_bytes", "gauge", "A domain's memory limit.");
        foreach (var d in s.Domains)
        {
            Sample(text, "disagg_domain_max_memory_bytes", DomainLabels(d.DomainId, d.Name), d.MaxMemoryKiB * 1024.0);
        }

        Family(text, "disagg_domain_state", "gauge", "1 for the state a domain is in.");
        foreach (var d in s.Domains)
        {
            Sample(text, "disagg_domain_state", DomainLabels(d.DomainId, d.Name) + Label("state", HostSnapshot.StateWord(d.State)), 1);
        }

        Family(text, "disagg_domain_vcpus", "gauge", "A domain's vCPUs by scheduler state (offline ones apart).");
        var names = s.Domains.ToDictionary(d => d.DomainId, d => d.Name);
        foreach (var group in s.Vcpus.GroupBy(v => (v.DomainId, State: v.Online ? HostSnapshot.VcpuStateWord(v.State) : "offline")).OrderBy(g => g.Key))
        {
            var name = names.GetValueOrDefault(group.Key.DomainId, "");
            Sample(text, "disagg_domain_vcpus", DomainLabels(group.Key.DomainId, name) + Label("state", group.Key.State), group.Count());
        }

        Family(text, "disagg_vcpu_cpu_seconds_total", "counter", "CPU time one vCPU has run.");
        foreach (var v in s.Vcpus)
        {
            var name = names.GetValueOrDefault(v.DomainId, "");
            Sample(text, "disagg_vcpu_cpu_seconds_total", DomainLabels(v.DomainId, name) + Label("vcpu", v.Vcpu.ToString(CultureInfo.InvariantCulture)), v.CpuTimeNs / 1e9);
        }

        Family(text, "disagg_service_up", "gauge", "1 while a supervised service runs and serves.");
        foreach (var svc in s.Services)
        {
            Sample(text, "disagg_service_up", Label("service", svc.Name, first: true), svc.State == "running" ? 1 : 0);
        }

        Family(text, "disagg_service_restarts_total", "counter", "Restarts of a service since the host came up.");
        foreach (var svc in s.Services)
        {
            Sample(text, "disagg_service_restarts_total", Label("service", svc.Name, first: true), svc.Restarts);
        }

        Family(text, "disagg_service_rss_bytes", "gauge", "Resident memory of a service's process.");
        foreach (var svc in s.Services)
        {
            Sample(text, "disagg_service_rss_bytes", Label("service", svc.Name, first: true), svc.RssBytes);
        }

        Family(text, "disagg_service_last_recovery_seconds", "gauge", "From the last death of a service to it serving again (backoff included).");
        foreach (var (service, r) in s.LastRestarts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Sample(text, "disagg_service_last_recovery_seconds", Label("service", service, first: true), r.Downtime.TotalSeconds);
        }

        // The backends' own counters, one family per field name, in the order first seen.
        var fields = new List<string>();
        foreach (var line in s.Backends)
        {
            foreach (var (key, _) in line.Numbers)
            {
                if (!fields.Contains(key, StringComparer.Ordinal))
                {
                    fields.Add(key);
                }
            }
        }

        foreach (var field in fields)
        {
            var metric = "disagg_backend_" + field;
            Family(text, metric, "untyped", $"Field '{field}' of the backends' status files.");
            foreach (var line in s.Backends)
            {
                foreach (var (key, value) in line.Numbers)
                {
                    if (key == field)
                    {
                        Sample(text, metric, Label("service", line.Service, first: true) + Label("name", line.Name), value);
                    }
                }
            }
        }

        return text.ToString();
    }

    private static string DomainLabels(int id, string name) =>
        Label("domain", name, first: true) + Label("id", id.ToString(CultureInfo.InvariantCulture));

    private static void Family(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder text, string name, string labels, double value)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{').Append(labels).Append('}');
        }

        text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    private static string Label(string key, string value, bool first = false) =>
        (first ? "" : ",") + key + "=\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
