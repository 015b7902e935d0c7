using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Runtime.Backends;

namespace Spotwise.Server.Tests;

/// <summary>
/// What the service says while a backend cannot act: <c>/healthz</c> turns 503 with a line per problem and the dashboard
/// shows a banner, both until the backend reports the call succeeded. (The AWS backend's own tests show it writing the
/// problem from EC2's UnauthorizedOperation; here the service reads it.)
/// </summary>
public sealed class HealthTests : IDisposable
{
    private const string Problem = "missing permission ec2:RunInstances (UnauthorizedOperation: You are not authorized to perform this operation.)";
    private readonly SpotwiseServerFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Healthz_is_503_naming_the_missing_permission_while_a_backend_cannot_act_and_ok_once_its_call_succeeds()
    {
        using var client = _factory.CreateClient();
        var health = _factory.Services.GetRequiredService<BackendHealth>();
        Assert.Equal("ok", await client.GetStringAsync(new Uri("/healthz", UriKind.Relative)));

        health.Failing("aws", "ec2:RunInstances", Problem, SpotwiseServerFactory.Start);
        using var unhealthy = await client.GetAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, unhealthy.StatusCode);
        Assert.Equal($"aws: {Problem}\n", await unhealthy.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", unhealthy.Content.Headers.ContentType?.MediaType);

        health.Cleared("aws", "ec2:RunInstances");
        using var healthy = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal((HttpStatusCode.OK, "ok"), (healthy.StatusCode, await healthy.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task The_dashboard_shows_a_banner_with_each_backend_problem()
    {
        using var browser = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using var login = await browser.PostAsync(new Uri("/login", UriKind.Relative),
            new FormUrlEncodedContent([new KeyValuePair<string, string>("apiKey", "k1")]));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.DoesNotContain("Jobs are waiting", await browser.GetStringAsync(new Uri("/", UriKind.Relative)), StringComparison.Ordinal);

        _factory.Services.GetRequiredService<BackendHealth>().Failing("aws", "ec2:RunInstances", Problem, SpotwiseServerFactory.Start);
        var page = await browser.GetStringAsync(new Uri("/", UriKind.Relative));

        Assert.Contains("Jobs are waiting: a backend cannot act.", page, StringComparison.Ordinal);
        Assert.Contains("aws: missing permission ec2:RunInstances (UnauthorizedOperation:", page, StringComparison.Ordinal);
    }
}
