using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Spotwise.Compute.Aws.Pricing;

/// <summary>
/// AWS Signature Version 4, for the one AWS API Spotwise calls without its SDK (the Price List API: AWSSDK.Pricing is not
/// available here). Follows https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html:
/// canonical request, string to sign, signing key derived from the date, region and service, signature. Tested
/// against the published SigV4 test suite's vectors.
/// </summary>
public static class SigV4Signer
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>
    /// Signs <paramref name="request"/> in place: sets <c>X-Amz-Date</c> (and <c>X-Amz-Security-Token</c> for temporary
    /// credentials) and <c>Authorization</c> over the host, the body's hash and every header already set on the request
    /// and its content.
    /// </summary>
    public static void Sign(HttpRequestMessage request, byte[] body, string region, string service, SigningCredentials credentials, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(credentials);
        var uri = request.RequestUri ?? throw new ArgumentException("the request has no address", nameof(request));
        request.Headers.Remove("X-Amz-Date");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", AmzDate(at));
        if (credentials.SessionToken is { Length: > 0 } token)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", token);
        }
        var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            .Where(h => !h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            .Select(h => (h.Key, string.Join(",", h.Value)))
            .Append(("Host", uri.Authority));
        request.Headers.TryAddWithoutValidation("Authorization",
            Authorization(request.Method.Method, uri, headers, Hex(SHA256.HashData(body)), region, service, credentials, at));
    }

    /// <summary>The <c>Authorization</c> header's value for a request with these headers (host among them) and payload hash.</summary>
    public static string Authorization(string method, Uri uri, IEnumerable<(string Name, string Value)> headers, string payloadSha256Hex,
        string region, string service, SigningCredentials credentials, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var canonicalHeaders = headers
            .GroupBy(h => h.Name.ToLowerInvariant(), StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Value: string.Join(",", g.Select(h => Trimmed(h.Value)))))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .ToList();
        var signedHeaders = string.Join(";", canonicalHeaders.Select(h => h.Name));
        var canonicalRequest = string.Join("\n",
            method,
            CanonicalPath(uri),
            CanonicalQuery(uri),
            string.Concat(canonicalHeaders.Select(h => $"{h.Name}:{h.Value}\n")),
            signedHeaders,
            payloadSha256Hex);
        var date = at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var scope = $"{date}/{region}/{service}/aws4_request";
        var stringToSign = string.Join("\n", Algorithm, AmzDate(at), scope, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
        var key = SigningKey(credentials.SecretKey, date, region, service);
        var signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        return $"{Algorithm} Credential={credentials.AccessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    /// <summary>kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").</summary>
    public static byte[] SigningKey(string secretKey, string date, string region, string service)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secretKey), Encoding.UTF8.GetBytes(date));
        foreach (var part in new[] { region, service, "aws4_request" })
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }
        return key;
    }

    public static string AmzDate(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>Each path segment URI-encoded (RFC 3986 unreserved characters kept); "/" for an empty path.</summary>
    private static string CanonicalPath(Uri uri)
    {
        var path = uri.AbsolutePath;
        return path.Length == 0 ? "/" : string.Join("/", path.Split('/').Select(s => Encode(Uri.UnescapeDataString(s))));
    }

    /// <summary>Parameters sorted by name (then value), each name and value URI-encoded.</summary>
    private static string CanonicalQuery(Uri uri) => string.Join("&", uri.Query.TrimStart('?')
        .Split('&', StringSplitOptions.RemoveEmptyEntries)
        .Select(p => p.Split('=', 2))
        .Select(p => (Name: Encode(Uri.UnescapeDataString(p[0])), Value: Encode(Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""))))
        .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
        .Select(p => $"{p.Name}={p.Value}"));

    private static string Encode(string s)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
            }
        }
        return builder.ToString();
    }

    /// <summary>Leading and trailing spaces removed, inner runs of spaces made one.</summary>
    private static string Trimmed(string value) => string.Join(' ', value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
}

/// <summary>The keys a request is signed with: from the SDK's credential chain (<c>AWSCredentials.GetCredentials()</c>).</summary>
public sealed record SigningCredentials(string AccessKey, string SecretKey, string? SessionToken = null);
