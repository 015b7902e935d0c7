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
/// Bearer API keys: <c>Authorization: Bearer KEY</c>. A known key signs in as its team (claim <see cref="TeamClaim"/>);
/// no key or an unknown key is 401. Authorisation by team is the handlers' job (another team's job is 404).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyRing keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string TeamClaim = "team";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var team = keys.TeamOf(header["Bearer ".Length..].Trim());
        if (team is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown API key"));
        }
        var identity = new ClaimsIdentity([new Claim(TeamClaim, team)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

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
}

internal static partial class ServerLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "No API keys are configured (Spotwise:ApiKeys or {Variable}): generated key for team 'default': {Key}")]
    public static partial void GeneratedKey(ILogger logger, string variable, string key);
}
