using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Spotwise.Server.Alerting;

/// <summary>
/// How a webhook POST is signed, and how a receiver checks it (docs/teams.md#alerts): HMAC-SHA256 under the webhook's
/// secret over the timestamp header's value, a dot, and the raw body, sent as <c>sha256=&lt;lowercase hex&gt;</c>. The
/// timestamp is signed with the body so a captured request cannot be replayed later: a receiver refuses old timestamps.
/// </summary>
public static class WebhookSignature
{
    public const string SignatureHeader = "X-Spotwise-Signature";

    /// <summary>Unix seconds when this try was sent (each retry is signed afresh).</summary>
    public const string TimestampHeader = "X-Spotwise-Timestamp";

    /// <summary>The same for every try of one alert to one webhook: a receiver drops the duplicates a retry may bring.</summary>
    public const string DeliveryHeader = "X-Spotwise-Delivery";

    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>The receiver's check, in constant time: the header is the signature of this timestamp and body.</summary>
    public static bool Verify(string secret, string? timestampHeader, ReadOnlySpan<byte> body, string? signatureHeader) =>
        long.TryParse(timestampHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp) && signatureHeader is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, timestamp, body)), Encoding.ASCII.GetBytes(signatureHeader));
}
