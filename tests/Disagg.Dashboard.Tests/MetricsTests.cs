using Disagg.TestSupport;

namespace Disagg.Dashboard.Tests;

/// <summary>/metrics scraped from a real host and read with a strict exposition-format parser.</summary>
public sealed class MetricsTests(DashboardHost host) : IClassFixture<DashboardHost>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task MetricsParseAndCarryDomainsServicesAndRestarts()
    {
        host.CreateEchoGuest("metered");
        IReadOnlyDictionary<string, PrometheusText.Family> metrics = new Dictionary<string, PrometheusText.Family>();
        Assert.True(await Eventually.HoldsAsync(async () =>
        {
            metrics = PrometheusText.Parse(await Http.GetStringAsync(host.Url + "metrics"));
            return metrics["disagg_domain_cpu_seconds_total"].Samples.Any(s => s.Labels["domain"] == "metered" && s.Value > 0);
        }), "the guest's CPU time in /metrics");

        Assert.Equal("counter", metrics["disagg_domain_cpu_seconds_total"].Type);
        var memory = Assert.Single(metrics["disagg_domain_memory_bytes"].Samples, s => s.Labels["domain"] == "metered");
        Assert.True(memory.Value > 0 && memory.Value <= Assert.Single(metrics["disagg_domain_max_memory_bytes"].Samples, s => s.Labels["domain"] == "metered").Value);
        Assert.Contains(metrics["disagg_domain_vcpus"].Samples, s => s.Labels["domain"] == "metered" && s.Value == 1);
        Assert.Contains(metrics["disagg_domain_state"].Samples, s => s.Labels["domain"] == "metered" && s.Value == 1);
        Assert.Equal(0, Assert.Single(metrics["disagg_service_restarts_total"].Samples, s => s.Labels["service"] == "probe").Value);
        Assert.Equal(1, Assert.Single(metrics["disagg_service_up"].Samples, s => s.Labels["service"] == "probe").Value);
        Assert.True(metrics["disagg_host_memory_bytes"].Samples[0].Value >= 128 << 20);

        // A killed service is restarted by the supervisor: its restart counter and recovery time appear.
        var pid = host.ProbePid();
        System.Diagnostics.Process.GetProcessById(pid).Kill();
        Assert.True(await Eventually.HoldsAsync(async () =>
        {
            metrics = PrometheusText.Parse(await Http.GetStringAsync(host.Url + "metrics"));
            return metrics["disagg_service_restarts_total"].Samples.Single(s => s.Labels["service"] == "probe").Value == 1
                && metrics.TryGetValue("disagg_service_last_recovery_seconds", out var recovery)
                && recovery.Samples.Any(s => s.Labels["service"] == "probe"); // recorded when it serves again, after the count
        }), "the probe's restart in /metrics");
        Assert.True(Assert.Single(metrics["disagg_service_last_recovery_seconds"].Samples, s => s.Labels["service"] == "probe").Value > 0);
        host.MustRun("destroy", "metered");
    }

    [Fact]
    public async Task TheDashboardPageIsSelfContainedAndUnknownPathsAre404()
    {
        var page = await Http.GetStringAsync(host.Url);
        Assert.Contains("<title>disagg host</title>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", page, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);
        var missing = await Http.GetAsync(host.Url + "nothing-here");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        var post = await Http.PostAsync(host.Url + "metrics", new StringContent(""));
        Assert.Equal(System.Net.HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public void TheParserRejectsWhatPrometheusWould()
    {
        Assert.Throws<FormatException>(() => PrometheusText.Parse("x 1\n"));
        Assert.Throws<FormatException>(() => PrometheusText.Parse("# HELP x h\n# TYPE x gauge\nx{a=\"1\" 1\n"));
        Assert.Throws<FormatException>(() => PrometheusText.Parse("# HELP x h\n# TYPE x gauge\nx 1\n# HELP x again\n"));
        var ok = PrometheusText.Parse("# HELP x h\n# TYPE x gauge\nx{a=\"q\\\"\\n\",b=\"2\"} 1.5\n");
        Assert.Equal("q\"\n", ok["x"].Samples[0].Labels["a"]);
    }
}

/// <summary>`--http` refuses what it must not serve.</summary>
public sealed class HttpAddressTests
{
    [Theory]
    [InlineData("0.0.0.0:8080", "not a loopback address")]
    [InlineData("10.1.2.3:80", "not a loopback address")]
    [InlineData("127.0.0.1", "is not ADDR:PORT")]
    [InlineData("127.0.0.1:99999", "is not ADDR:PORT")]
    [InlineData("example:80", "is not an IP address")]
    public void HostUpRefusesABadHttpAddress(string address, string message)
    {
        var dir = Directory.CreateTempSubdirectory("ddash-bad-").FullName;
        try
        {
            var r = HostProcess.Run(RepoPaths.Program("disagg"), ["host", "up", "--state-dir", dir, "--http", address], TimeSpan.FromSeconds(60));
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains(message, r.StdErr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dir, "disagg.pid")) && File.Exists(Path.Combine(dir, "disagg.sock")), "no host came up");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
