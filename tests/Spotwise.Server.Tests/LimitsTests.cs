using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Spotwise.Server.Tests;

/// <summary>
/// The limits that keep one client from taking the service for itself: rate limits by key identity and by address for
/// sign-in, and body limits on every endpoint. Windows are an hour long, so nothing rolls over during a test.
/// </summary>
public sealed partial class LimitsTests
{
    private static readonly Dictionary<string, string> TinyWindows = new()
    {
        ["Spotwise:RateLimitPermits"] = "3",
        ["Spotwise:RateLimitWindow"] = "01:00:00",
        ["Spotwise:LoginPermits"] = "2",
        ["Spotwise:LoginWindow"] = "01:00:00",
    };

    /// <summary>
    /// One request built on the server's own HttpContext, so the Authorization header and the client address are exactly
    /// as written (HttpClient would normalise the header).
    /// </summary>
    private static Task<HttpContext> SendAsync(SpotwiseServerFactory factory, string method, string path,
        string? authorization = null, string? from = null, (string Type, byte[] Bytes)? body = null) =>
        factory.Server.SendAsync(context =>
        {
            context.Request.Method = method;
            context.Request.Path = path;
            if (authorization is not null)
            {
                context.Request.Headers.Authorization = authorization;
            }
            if (from is not null)
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(from);
            }
            if (body is var (type, bytes))
            {
                context.Request.ContentType = type;
                context.Request.ContentLength = bytes.Length;
                context.Request.Body = new MemoryStream(bytes);
            }
        });

    private static (string, byte[]) LoginForm(string key) => ("application/x-www-form-urlencoded", Encoding.ASCII.GetBytes("apiKey=" + key));

    private static async Task<ProblemDetails> ProblemAsync(HttpContext context)
    {
        Assert.StartsWith("application/problem+json", context.Response.ContentType, StringComparison.Ordinal);
        return (await System.Text.Json.JsonSerializer.DeserializeAsync<ProblemDetails>(context.Response.Body, System.Text.Json.JsonSerializerOptions.Web))!;
    }

    private static async Task AssertTooManyAsync(HttpContext context)
    {
        Assert.Equal(StatusCodes.Status429TooManyRequests, context.Response.StatusCode);
        var seconds = int.Parse(context.Response.Headers.RetryAfter.ToString(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, 3600);
        var problem = await ProblemAsync(context);
        Assert.Equal(429, problem.Status);
        Assert.Contains($"try again in {seconds} s", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_spelling_of_the_bearer_header_counts_against_one_window_per_key()
    {
        await using var factory = new SpotwiseServerFactory(TinyWindows);

        Assert.Equal(200, (await SendAsync(factory, "GET", "/api/jobs", "Bearer k1")).Response.StatusCode);
        Assert.Equal(200, (await SendAsync(factory, "GET", "/api/jobs", "bearer k1")).Response.StatusCode);
        Assert.Equal(200, (await SendAsync(factory, "GET", "/api/jobs", " BEARER \t k1 ")).Response.StatusCode);

        await AssertTooManyAsync(await SendAsync(factory, "GET", "/api/jobs", "Bearer  k1"));
        Assert.Equal(200, (await SendAsync(factory, "GET", "/api/jobs", "Bearer k2")).Response.StatusCode);
    }

    [Fact]
    public async Task A_request_without_a_valid_key_is_401_and_uses_no_one_s_window()
    {
        await using var factory = new SpotwiseServerFactory(TinyWindows);

        foreach (var header in new[] { "Bearer nope", "Bearer", "Basic k1", "Bearerk1", "k1" })
        {
            Assert.Equal(401, (await SendAsync(factory, "GET", "/api/jobs", header)).Response.StatusCode);
        }
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await SendAsync(factory, "GET", "/api/jobs", "Bearer k1")).Response.StatusCode);
        }
    }

    [Fact]
    public async Task The_dashboard_s_forms_count_against_the_same_window_as_the_key_s_api_calls()
    {
        await using var factory = new SpotwiseServerFactory(TinyWindows);
        using var browser = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostAsync("/login", new FormUrlEncodedContent([new("apiKey", "k1")]))).StatusCode);

        Assert.Equal(200, (await SendAsync(factory, "GET", "/api/jobs", "Bearer k1")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.PostAsync("/dashboard/jobs/nope/cancel", null)).StatusCode);
        Assert.Equal(200, (await SendAsync(factory, "GET", "/api/jobs", "bearer k1")).Response.StatusCode);

        var refused = await browser.PostAsync("/dashboard/jobs/nope/cancel", null);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        await AssertTooManyAsync(await SendAsync(factory, "GET", "/api/jobs", "Bearer k1"));
    }

    [Fact]
    public async Task Sign_in_attempts_are_limited_per_client_address()
    {
        await using var factory = new SpotwiseServerFactory(TinyWindows);

        Assert.Equal(401, (await SendAsync(factory, "POST", "/login", from: "203.0.113.7", body: LoginForm("guess-1"))).Response.StatusCode);
        Assert.Equal(401, (await SendAsync(factory, "POST", "/login", from: "203.0.113.7", body: LoginForm("guess-2"))).Response.StatusCode);

        var third = await SendAsync(factory, "POST", "/login", from: "203.0.113.7", body: LoginForm("k1"));
        await AssertTooManyAsync(third);
        Assert.Contains("sign-in attempts from this address", (await ProblemAsync(await SendAsync(factory, "POST", "/login", from: "203.0.113.7", body: LoginForm("k1")))).Detail, StringComparison.Ordinal);
        Assert.Equal(302, (await SendAsync(factory, "POST", "/login", from: "198.51.100.1", body: LoginForm("k1"))).Response.StatusCode);
        // The API is not the sign-in form: the same address still reaches it with a key.
        Assert.Equal(200, (await SendAsync(factory, "GET", "/api/jobs", "Bearer k1", from: "203.0.113.7")).Response.StatusCode);
    }

    [Theory]
    [InlineData("Spotwise:LoginPermits", "0", "Spotwise:LoginPermits is 0")]
    [InlineData("Spotwise:LoginWindow", "00:00:00", "Spotwise:LoginWindow is 00:00:00")]
    public async Task An_unusable_sign_in_limit_fails_the_start_naming_the_setting(string setting, string value, string message)
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { [setting] = value });

        var e = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_IPv6_client_is_counted_by_its_64_prefix_and_a_mapped_IPv4_one_by_its_IPv4_address()
    {
        Assert.Equal(RateLimits.ClientAddress(IPAddress.Parse("2001:db8:1:2::1")), RateLimits.ClientAddress(IPAddress.Parse("2001:db8:1:2:ffff::9")));
        Assert.NotEqual(RateLimits.ClientAddress(IPAddress.Parse("2001:db8:1:2::1")), RateLimits.ClientAddress(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal("192.0.2.1", RateLimits.ClientAddress(IPAddress.Parse("::ffff:192.0.2.1")));
    }

    [Fact]
    public async Task A_4_MiB_login_form_is_413_with_problem_details_not_500()
    {
        await using var factory = new SpotwiseServerFactory();
        using var client = factory.CreateClient();

        var response = await client.PostAsync("/login", new FormUrlEncodedContent([new("apiKey", new string('k', 4 * 1024 * 1024))]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Contains("16 KiB", problem!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_without_a_length_is_cut_off_at_the_limit_with_413()
    {
        await using var factory = new SpotwiseServerFactory();
        using var client = factory.ClientFor("k1");

        var form = await client.PostAsync("/login", Unsized("application/x-www-form-urlencoded", "apiKey=" + new string('k', 64 * 1024)));
        var jobs = await client.PostAsync("/api/jobs", Unsized("application/json", "[" + new string(' ', 5 * 1024 * 1024) + "]"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, form.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, jobs.StatusCode);
        Assert.Equal(413, (await jobs.Content.ReadFromJsonAsync<ProblemDetails>())!.Status);
    }

    /// <summary>A body sent chunked: its length is not known until it has been read.</summary>
    private static StreamContent Unsized(string type, string text)
    {
        var content = new StreamContent(new Unseekable(Encoding.ASCII.GetBytes(text)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(type);
        return content;
    }

    private sealed class Unseekable(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    /// <summary>Every POST route of the server, route parameters filled in.</summary>
    private static List<string> PostPaths(SpotwiseServerFactory factory) => factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
        .OfType<RouteEndpoint>()
        .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains("POST") == true)
        .Select(e => "/" + RouteParameter().Replace(e.RoutePattern.RawText!.TrimStart('/'), "x"))
        .Distinct().ToList();

    [Fact]
    public async Task A_form_of_too_many_fields_on_any_form_endpoint_is_a_4xx_not_500()
    {
        await using var factory = new SpotwiseServerFactory();
        var form = Encoding.ASCII.GetBytes(string.Join("&", Enumerable.Range(0, 2000).Select(i => $"f{i}=")));

        foreach (var path in PostPaths(factory).Where(p => !p.StartsWith("/api/", StringComparison.Ordinal)))
        {
            var response = await SendAsync(factory, "POST", path, "Bearer k1", body: ("application/x-www-form-urlencoded", form));

            Assert.True(response.Response.StatusCode is >= 300 and < 500, $"POST {path}: {response.Response.StatusCode}");
        }
    }

    [Fact]
    public async Task An_oversize_body_on_every_POST_endpoint_is_413_not_500()
    {
        await using var factory = new SpotwiseServerFactory();
        var posts = PostPaths(factory);
        Assert.Superset(new HashSet<string> { "/api/jobs/", "/api/plan/preview", "/login", "/logout", "/dashboard/submit", "/dashboard/jobs/x/cancel" }, posts.ToHashSet());

        foreach (var path in posts)
        {
            var limit = path.StartsWith("/api/", StringComparison.Ordinal) ? 4 * 1024 * 1024 : 16 * 1024;
            var type = path.StartsWith("/api/", StringComparison.Ordinal) ? "application/json" : "application/x-www-form-urlencoded";

            var response = await SendAsync(factory, "POST", path, "Bearer k1", body: (type, new byte[limit + 1]));

            Assert.True(response.Response.StatusCode == 413, $"POST {path}: {response.Response.StatusCode}");
            Assert.Equal(413, (await ProblemAsync(response)).Status);
        }
    }

    [Fact]
    public async Task A_body_at_the_limit_is_read()
    {
        await using var factory = new SpotwiseServerFactory();
        var form = Encoding.ASCII.GetBytes("apiKey=" + new string('k', (16 * 1024) - 7));
        var json = Encoding.ASCII.GetBytes("[" + new string(' ', (4 * 1024 * 1024) - 2) + "]");

        var login = await SendAsync(factory, "POST", "/login", body: ("application/x-www-form-urlencoded", form));
        var jobs = await SendAsync(factory, "POST", "/api/jobs", "Bearer k1", body: ("application/json", json));

        Assert.Equal(401, login.Response.StatusCode); // read, and the key is not known
        Assert.Equal(400, jobs.Response.StatusCode); // read: the array holds no jobs
    }

    [Theory]
    [InlineData("application/json", "{\"apiKey\":\"k1\"}")]
    [InlineData("text/plain", "apiKey=k1")]
    [InlineData("application/x-www-form-urlencoded", "2,000 fields")]
    public async Task A_login_or_submit_post_that_is_not_a_readable_form_is_400_naming_the_form(string type, string body)
    {
        await using var factory = new SpotwiseServerFactory();
        using var browser = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        await browser.PostAsync("/login", new FormUrlEncodedContent([new("apiKey", "k1")]));
        var text = body == "2,000 fields" ? string.Join("&", Enumerable.Range(0, 2000).Select(i => $"f{i}=")) : body;

        var login = await browser.PostAsync("/login", new StringContent(text, Encoding.ASCII, type));
        var submit = await browser.PostAsync("/dashboard/submit", new StringContent(text, Encoding.ASCII, type));

        Assert.Equal(HttpStatusCode.BadRequest, login.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, submit.StatusCode);
        Assert.Contains("form: the request is not this page", await login.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("the request is not this page", await submit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Over_real_HTTP_on_loopback_an_oversize_body_is_413()
    {
        await using var factory = new SpotwiseServerFactory(TinyWindows);
        factory.UseKestrel(0);
        factory.StartServer();
        using var client = factory.ClientFor("k1");
        // As a well-behaved client sending a large body: wait for the server's go-ahead, so a 413 that needs no
        // reading comes back without the body being pushed at a closing connection.
        client.DefaultRequestHeaders.ExpectContinue = true;

        var login = await client.PostAsync("/login", new FormUrlEncodedContent([new("apiKey", new string('k', 4 * 1024 * 1024))]));
        var jobs = await client.PostAsync("/api/jobs", new StringContent("[" + new string(' ', 4 * 1024 * 1024) + "]", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, login.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, jobs.StatusCode);
        Assert.Equal(413, (await jobs.Content.ReadFromJsonAsync<ProblemDetails>())!.Status);
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
