using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Spotwise.Server.Dashboard;

/// <summary>
/// The dashboard signs in with the same API keys as the API: <c>POST /login</c> puts the key in an HttpOnly,
/// SameSite=Strict cookie, and every request checks it against the key ring again (a key removed from the
/// configuration signs its pages out). The claims are the API's (team and key identity), so the same handlers serve both
/// and the dashboard's forms count against the key's own rate limit.
/// </summary>
public sealed class DashboardCookieHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyRing keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "DashboardCookie";
    public const string CookieName = "spotwise_key";
    public const string LoginPath = "/login";

    public static AuthorizationPolicy Policy { get; } = new AuthorizationPolicyBuilder(SchemeName).RequireAuthenticatedUser().Build();

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Cookies.TryGetValue(CookieName, out var key) || string.IsNullOrEmpty(key))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        return Task.FromResult(keys.SignIn(key, SchemeName) is { } user
            ? AuthenticateResult.Success(new AuthenticationTicket(user, SchemeName))
            : AuthenticateResult.Fail("unknown API key"));
    }

    /// <summary>Pages send a visitor without a valid cookie to the login form.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Redirect(LoginPath);
        return Task.CompletedTask;
    }

    public static void SignIn(HttpResponse response, string key, bool https) => response.Cookies.Append(CookieName, key, new CookieOptions
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = https,
        Path = "/",
        IsEssential = true,
    });

    public static void SignOut(HttpResponse response) => response.Cookies.Delete(CookieName, new CookieOptions { Path = "/" });
}
