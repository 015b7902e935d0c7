using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Spotwise.Server.Tests;

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

/// <summary>The server on a real loopback port (Kestrel, not the in-memory test server), with the test factory's fixed clock.</summary>
public sealed class LiveServer : IAsyncDisposable
{
    private LiveServer(SpotwiseServerFactory factory, Uri address)
    {
        Factory = factory;
        Address = address;
    }

    public SpotwiseServerFactory Factory { get; }

    public Uri Address { get; }

    public static LiveServer Start()
    {
        var factory = new SpotwiseServerFactory();
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LiveServer(factory, new Uri(address));
    }

    public string Url(string path) => new Uri(Address, path).ToString();

    public async ValueTask DisposeAsync() => await Factory.DisposeAsync();
}
