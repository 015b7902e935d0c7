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
/// The installation's admin key, from <see cref="EnvironmentVariable"/>: it may set teams' budgets
/// (<c>PUT /api/teams/{team}/budget</c>) and read any team's. It signs in as no team, so it reaches no team's jobs
/// (the default policy wants a team). Without the variable there is no admin, and admin endpoints answer 403 to every key.
/// </summary>
public sealed class AdminKey(string? key)
{
    public const string EnvironmentVariable = "SPOTWISE_ADMIN_KEY";

    /// <summary>The claim an admin principal carries (value <c>true</c>).</summary>
    public const string Claim = "admin";

    /// <summary>The authorization policy of admin-only endpoints: <c>.RequireAuthorization(AdminKey.Policy)</c>.</summary>
    public const string Policy = "Admin";

    private readonly byte[]? _key = string.IsNullOrEmpty(key) ? null : System.Text.Encoding.UTF8.GetBytes(key.Trim());

    public bool IsSet => _key is not null;

    /// <summary>Whether <paramref name="candidate"/> is the admin key, compared in constant time.</summary>
    public bool Matches(string candidate) => _key is not null
        && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(_key, System.Text.Encoding.UTF8.GetBytes(candidate));

    /// <summary>The admin's principal: the admin claim and the key's identity (for the rate limiter), no team.</summary>
    public static ClaimsPrincipal SignIn(string key, string scheme) => new(new ClaimsIdentity(
        [new Claim(Claim, "true"), new Claim(ApiKeyAuthenticationHandler.KeyIdClaim, ApiKeyRing.IdOf(key))], scheme));

    /// <summary>
    /// The default policy (every team endpoint) wants a team, so the admin key is 403 there rather than a handler's
    /// missing-claim error; <see cref="Policy"/> wants the admin claim, so a team key is 403 there.
    /// </summary>
    public static void AddPolicies(Microsoft.AspNetCore.Authorization.AuthorizationOptions options)
    {
        options.DefaultPolicy = new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder()
            .RequireAuthenticatedUser().RequireClaim(ApiKeyAuthenticationHandler.TeamClaim).Build();
        options.AddPolicy(Policy, policy => policy.RequireAuthenticatedUser().RequireClaim(Claim, "true"));
        options.AddPolicy(AdminOrTeamPolicy, policy => policy.RequireAuthenticatedUser());
    }

    /// <summary>Endpoints any key may reach, whose handler decides (an admin, or the team the route names).</summary>
    public const string AdminOrTeamPolicy = "AdminOrTeam";
}

public static class AdminPrincipal
{
    public static bool IsAdmin(this ClaimsPrincipal user) => user.HasClaim(AdminKey.Claim, "true");

    /// <summary>Whether the signed-in key may read <paramref name="team"/>'s figures: the admin, or that team's own key.</summary>
    public static bool MayRead(this ClaimsPrincipal user, string team) =>
        user.IsAdmin() || string.Equals(user.FindFirst(ApiKeyAuthenticationHandler.TeamClaim)?.Value, team, StringComparison.Ordinal);
}

/// <summary>
/// Bearer API keys: <c>Authorization: Bearer KEY</c>, the scheme in any case and any whitespace around the key (RFC 9110
/// auth-schemes are case-insensitive). A known key signs in as its team (claim <see cref="TeamClaim"/>) and its identity
/// (<see cref="KeyIdClaim"/>); no key or an unknown key is 401. Authorisation by team is the handlers' job (another team's
/// job is 404).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyRing keys, AdminKey admin)
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
        if (admin.Matches(key))
        {
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(AdminKey.SignIn(key, SchemeName), SchemeName)));
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
