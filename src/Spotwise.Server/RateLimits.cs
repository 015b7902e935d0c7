using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Spotwise.Server;

/// <summary>
/// The service's rate limits, each a fixed window. <see cref="PerKey"/>: requests per API key, counted by the key's
/// identity (<see cref="ApiKeyRing.IdOf"/>), so every spelling of the header and the dashboard's cookie share one window.
/// <see cref="LoginPerAddress"/>: sign-in attempts per client address, so keys cannot be guessed fast. Every 429 says
/// when to come back (<c>Retry-After</c>, seconds) and why, as ProblemDetails.
/// </summary>
public static class RateLimits
{
    public const string PerKey = "per-key";
    public const string LoginPerAddress = "login-per-address";

    public static IServiceCollection AddSpotwiseRateLimits(this IServiceCollection services) => services.AddRateLimiter(limiter =>
    {
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.OnRejected = RejectAsync;
        // Endpoints under this policy require a key, and authorisation runs before the limiter: a request without a
        // valid key was answered 401 and never gets here. The address is only a fallback should one ever slip through.
        limiter.AddPolicy(PerKey, context => Window(Settings(context).RateLimitPermits, Settings(context).RateLimitWindow,
            context.User.KeyId() is { } keyId ? "key:" + keyId : "address:" + ClientAddress(context.Connection.RemoteIpAddress)));
        limiter.AddPolicy(LoginPerAddress, context => Window(Settings(context).LoginPermits, Settings(context).LoginWindow,
            ClientAddress(context.Connection.RemoteIpAddress)));
    });

    /// <summary>
    /// The address a client is counted under. An IPv6 client owns at least a /64, so it counts as its /64: otherwise
    /// it could take a fresh address for every attempt.
    /// </summary>
    public static string ClientAddress(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private static SpotwiseOptions Settings(HttpContext context) => context.RequestServices.GetRequiredService<IOptions<SpotwiseOptions>>().Value;

    private static RateLimitPartition<string> Window(int permits, TimeSpan window, string partition) =>
        RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = window,
            QueueLimit = 0,
        });

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var options = Settings(context);
        var login = context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName == LoginPerAddress;
        var window = login ? options.LoginWindow : options.RateLimitWindow;
        var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : window;
        var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var what = login
            ? $"more than {options.LoginPermits} sign-in attempts from this address in {window}"
            : $"more than {options.RateLimitPermits} requests with this API key in {window}";
        await TypedResults.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many requests",
            detail: $"{what}; try again in {seconds} s").ExecuteAsync(context);
    }
}
