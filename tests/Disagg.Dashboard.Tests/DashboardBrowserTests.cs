using Microsoft.Playwright;

namespace Disagg.Dashboard.Tests;

/// <summary>
/// The dashboard in a real browser: Debian's chromium (tools/deps.sh installs it), headless, driven by
/// Playwright with no browser download of its own. The page loads and goes live, a guest created after it
/// opened appears, its console shows pvos's banner, and a killed service shows its restart.
/// </summary>
public sealed class DashboardBrowserTests(DashboardHost host) : IClassFixture<DashboardHost>
{
    private const string Chromium = "/usr/bin/chromium";
    private const float Wait = 60_000;

    [Fact]
    public async Task APageShowsAGuestLiveItsConsoleAndAServiceRestart()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run tools/deps.sh (Debian's chromium package)");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            // No sandbox as root; no background networking: this machine has no network to reach.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.Url);
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("live", new() { Timeout = Wait });

        host.CreateEchoGuest("shown");
        var row = page.Locator("#domains tr[data-name='shown']");
        await Assertions.Expect(row).ToBeVisibleAsync(new() { Timeout = Wait });

        await row.Locator("button").ClickAsync();
        await Assertions.Expect(page.Locator("#console")).ToContainTextAsync("echo: type and it comes back", new() { Timeout = Wait });

        var restarts = page.Locator("#services tr[data-name='probe'] td.restarts");
        await Assertions.Expect(restarts).ToHaveTextAsync("0", new() { Timeout = Wait });
        System.Diagnostics.Process.GetProcessById(host.ProbePid()).Kill();
        await Assertions.Expect(restarts).ToHaveTextAsync("1", new() { Timeout = Wait });
        await Assertions.Expect(page.Locator("#services tr[data-name='probe'] td.recovery")).ToContainTextAsync(" ms", new() { Timeout = Wait });

        await Assertions.Expect(page.Locator("#dmesg")).ToContainTextAsync("created domain", new() { Timeout = Wait });
        host.MustRun("destroy", "shown");
        await Assertions.Expect(row).ToHaveCountAsync(0, new() { Timeout = Wait });
    }
}
