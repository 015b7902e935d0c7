using System.Text;
using Spotwise.Compute.Aws.Pricing;

namespace Spotwise.Compute.Aws.Tests;

/// <summary>
/// The signer against AWS's published SigV4 test suite (aws-sig-v4-test-suite: get-vanilla, post-vanilla,
/// get-vanilla-query-order-key-case), whose example credentials, moment and signatures these are.
/// </summary>
public sealed class SigV4SignerTests
{
    private static readonly SigningCredentials Example = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    private static readonly DateTimeOffset At = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);
    private const string EmptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static string Authorization(string method, string url) => SigV4Signer.Authorization(method, new Uri(url),
        [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")], EmptyPayload, "us-east-1", "service", Example, At);

    [Theory]
    [InlineData("GET", "https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")]
    [InlineData("POST", "https://example.amazonaws.com/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")]
    [InlineData("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")]
    public void The_signature_is_the_published_test_suites(string method, string url, string signature)
    {
        Assert.Equal(
            $"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={signature}",
            Authorization(method, url));
    }

    [Fact]
    public void A_request_is_signed_over_its_host_date_target_and_content_type_with_the_session_token_when_there_is_one()
    {
        var body = Encoding.UTF8.GetBytes("{}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:5999/") { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "AWSPriceListService.GetProducts");

        SigV4Signer.Sign(request, body, "us-east-1", "pricing", Example with { SessionToken = "token" }, At);

        Assert.Equal("20150830T123600Z", request.Headers.GetValues("X-Amz-Date").Single());
        Assert.Equal("token", request.Headers.GetValues("X-Amz-Security-Token").Single());
        Assert.Matches(
            "^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/pricing/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$",
            request.Headers.GetValues("Authorization").Single());
    }
}
