using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Spotwise.Server.Tests;

/// <summary>
/// The server on a real loopback port (Kestrel, not the in-memory test server), with the test factory's fixed clock and
/// keys (k1 for team-a, k2 for team-b).
/// </summary>
/// <remarks>Linked into the dashboard's browser tests too (one copy of the hosting).</remarks>
public sealed class LiveServer : IAsyncDisposable
{
    private LiveServer(SpotwiseServerFactory factory, Uri address)
    {
        Factory = factory;
        Address = address;
    }

    /// <summary>The client's limit on response headers, in KiB (the handler's unit).</summary>
    private const int ResponseHeadersKiB = 128;

    public SpotwiseServerFactory Factory { get; }

    public Uri Address { get; }

    public static LiveServer Start(IReadOnlyDictionary<string, string>? settings = null)
    {
        var factory = new SpotwiseServerFactory(settings);
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LiveServer(factory, new Uri(address));
    }

    public string Url(string path) => new Uri(Address, path).ToString();

    /// <summary>
    /// A client over real HTTP to the server, sending <paramref name="key"/> as a bearer token when given. It reads
    /// response headers up to 128 KiB, so an answer that wrongly echoes a huge id in Location is seen, not thrown.
    /// </summary>
    public HttpClient ClientFor(string? key)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxResponseHeadersLength = ResponseHeadersKiB }) { BaseAddress = Address };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    public async ValueTask DisposeAsync() => await Factory.DisposeAsync();
}
