using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Spotwise.Server;

/// <summary>The API keys the service accepts, each bound to one team.</summary>
public sealed class ApiKeyRing(IReadOnlyDictionary<string, string> teamByKey)
{
    public const string EnvironmentVariable = "SPOTWISE_API_KEYS";

    public string? TeamOf(string key) => teamByKey.GetValueOrDefault(key);

    /// <summary>
    /// A key's stable identity: the first 16 hex digits of its SHA-256. Rate limits are counted per identity, so every
    /// spelling of the same key (header or dashboard cookie) shares one window; the key itself never appears in a claim
    /// or a log.
    /// </summary>
    public static string IdOf(string key) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..16];

    /// <summary>The principal a known key signs in as: its team and its identity (<see cref="IdOf"/>).</summary>
    public ClaimsPrincipal? SignIn(string key, string scheme) => TeamOf(key) is { } team
        ? new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ApiKeyAuthenticationHandler.TeamClaim, team), new Claim(ApiKeyAuthenticationHandler.KeyIdClaim, IdOf(key))], scheme))
        : null;

    public int Count => teamByKey.Count;

    /// <summary>Reads <c>key1=teamA,key2=teamB</c>; an empty or missing text is no keys.</summary>
    public static bool TryParse(string? text, out Dictionary<string, string> teamByKey, out string? why)
    {
        teamByKey = new Dictionary<string, string>(StringComparer.Ordinal);
        why = null;
        foreach (var pair in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            {
                why = $"'{pair}' is not key=team";
                return false;
            }
            if (parts[1].Contains('/', StringComparison.Ordinal))
            {
                // A job's key is written team/id (plans, client tokens): the first '/' must end the team.
                why = $"team '{parts[1]}' contains '/'; a team name cannot";
                return false;
            }
            if (!teamByKey.TryAdd(parts[0], parts[1]))
            {
                why = "a key is listed twice";
                return false;
            }
        }
        return true;
    }

    /// <summary>Keys from the options and from <see cref="EnvironmentVariable"/>.</summary>
    public static ApiKeyRing From(SpotwiseOptions options, string? environment)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var text in new[] { options.ApiKeys, environment })
        {
            if (!TryParse(text, out var parsed, out var why))
            {
                throw new OptionsValidationException(nameof(SpotwiseOptions), typeof(SpotwiseOptions), [$"API keys: {why}"]);
            }
            foreach (var (key, team) in parsed)
            {
                keys[key] = team;
            }
        }
        return new ApiKeyRing(keys);
    }

    /// <summary>A ring of one fresh random key for team <c>default</c>: what <c>serve</c> uses when no key is configured.</summary>
    public static (ApiKeyRing Ring, string Key) Generated()
    {
        var key = "sw_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        return (new ApiKeyRing(new Dictionary<string, string>(StringComparer.Ordinal) { [key] = DefaultTeam }), key);
    }

    public const string DefaultTeam = "default";
}

/// <summary>
/// Bearer API keys: <c>Authorization: Bearer KEY</c>, the scheme in any case and any whitespace around the key (RFC 9110
/// auth-schemes are case-insensitive). A known key signs in as its team (claim <see cref="TeamClaim"/>) and its identity
/// (<see cref="KeyIdClaim"/>); no key or an unknown key is 401. Authorisation by team is the handlers' job (another team's
/// job is 404).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyRing keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string TeamClaim = "team";
    public const string KeyIdClaim = "key-id";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers.Authorization.Count != 1 || BearerKey(Request.Headers.Authorization.ToString()) is not { } key)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        return Task.FromResult(keys.SignIn(key, SchemeName) is { } user
            ? AuthenticateResult.Success(new AuthenticationTicket(user, SchemeName))
            : AuthenticateResult.Fail("unknown API key"));
    }

    /// <summary>The key of <c>Bearer KEY</c> (scheme in any case, any whitespace); null for another scheme or no key.</summary>
    public static string? BearerKey(string header)
    {
        var text = header.Trim();
        var gap = text.AsSpan().IndexOfAny(Whitespace);
        if (gap < 0 || !text.AsSpan(0, gap).Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var key = text[gap..].Trim();
        return key.Length == 0 ? null : key;
    }

    private static readonly System.Buffers.SearchValues<char> Whitespace = System.Buffers.SearchValues.Create(" \t\r\n\v\f");

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}

public static class TeamPrincipal
{
    /// <summary>The team of the signed-in key (endpoints that call this require authorisation).</summary>
    public static string Team(this ClaimsPrincipal user) =>
        user.FindFirst(ApiKeyAuthenticationHandler.TeamClaim)?.Value ?? throw new InvalidOperationException("no team claim: the endpoint must require authorization");

    /// <summary>The signed-in key's identity (<see cref="ApiKeyRing.IdOf"/>), or null when no key signed in.</summary>
    public static string? KeyId(this ClaimsPrincipal user) => user.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)?.Value;
}

internal static partial class ServerLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "No API keys are configured (Spotwise:ApiKeys or {Variable}): generated key for team 'default': {Key}")]
    public static partial void GeneratedKey(ILogger logger, string variable, string key);
}
