using Microsoft.Playwright;

namespace Spotwise.Dashboard.Tests;

/// <summary>
/// One headless Chromium for the browser tests: Debian's, at <see cref="ExecutablePath"/> (scripts/install-browser.sh
/// installs it; .ci/run calls that). Playwright is told never to download a browser. A missing browser fails the tests
/// with that instruction: they never pass without having run.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Chromium { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} is missing: run scripts/install-browser.sh (Debian's chromium) before the dashboard tests");
        }
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        // CI runs every test project at once on two cores: give the page's own waits room.
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        Chromium = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Tests run as root in CI's container, where Chromium's sandbox cannot start.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--font-render-hinting=none"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Chromium is not null)
        {
            await Chromium.DisposeAsync();
        }
        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class SharedBrowser : ICollectionFixture<Browser>
{
    public const string Name = "browser";
}
