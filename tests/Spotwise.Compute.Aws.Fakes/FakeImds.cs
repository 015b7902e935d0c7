using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// A loopback EC2 instance metadata service that requires IMDSv2, as an instance launched with HttpTokens=required does
/// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html): a session token from
/// <c>PUT /latest/api/token</c> with <c>X-aws-ec2-metadata-token-ttl-seconds</c> (1 to 21600; else 400), then every
/// <c>GET /latest/meta-data/...</c> with <c>X-aws-ec2-metadata-token</c> (missing or unknown: 401). Items:
/// <c>instance-id</c>, <c>placement/region</c>, and <c>spot/instance-action</c>, which is 404 until EC2 marks the spot
/// instance for interruption and then <c>{"action": "terminate", "time": "..."}</c>, two minutes ahead
/// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html).
/// </summary>
public sealed class FakeImds : IAsyncDisposable
{
    public const string TtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
    public const string TokenHeader = "X-aws-ec2-metadata-token";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, bool> _tokens = new(StringComparer.Ordinal);
    private volatile string? _instanceAction;

    private FakeImds(WebApplication app, string instanceId)
    {
        _app = app;
        InstanceId = instanceId;
    }

    public Uri BaseUri { get; private set; } = null!;

    public string InstanceId { get; }

    public string Region { get; init; } = "us-east-1";

    /// <summary>Every request as "METHOD path status", in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static async Task<FakeImds> StartAsync(string instanceId = "i-0123456789abcdef0")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var imds = new FakeImds(app, instanceId);
        app.MapPut("/latest/api/token", imds.Token);
        app.MapGet("/latest/meta-data/{**item}", imds.MetaData);
        await app.StartAsync();
        imds.BaseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return imds;
    }

    /// <summary>EC2 marks the spot instance for termination at <paramref name="at"/>: spot/instance-action appears.</summary>
    public void AnnounceInterruption(DateTimeOffset at) =>
        _instanceAction = $"{{\"action\": \"terminate\", \"time\": \"{at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}\"}}";

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private IResult Token(HttpContext context)
    {
        var ttl = context.Request.Headers[TtlHeader].ToString();
        if (!int.TryParse(ttl, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 21600)
        {
            return Logged(context, Results.BadRequest());
        }
        var token = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        _tokens[token] = true;
        return Logged(context, Results.Text(token, "text/plain"));
    }

    private IResult MetaData(HttpContext context, string item)
    {
        if (!_tokens.ContainsKey(context.Request.Headers[TokenHeader].ToString()))
        {
            return Logged(context, Results.Unauthorized());
        }
        var value = item switch
        {
            "instance-id" => InstanceId,
            "placement/region" => Region,
            "spot/instance-action" => _instanceAction,
            _ => null,
        };
        return Logged(context, value is null ? Results.NotFound() : Results.Text(value, "text/plain"));
    }

    private IResult Logged(HttpContext context, IResult result)
    {
        var status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : 200;
        Requests.Enqueue(string.Create(CultureInfo.InvariantCulture, $"{context.Request.Method} {context.Request.Path} {status}"));
        return result;
    }
}
