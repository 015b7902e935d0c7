using System.Security.Cryptography;
using System.Text;

namespace Spotwise.Compute.Aws;

/// <summary>
/// EC2 takes a client token of at most 64 ASCII characters
/// (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html); an attempt's token (<c>team/id#attempt</c>)
/// may be longer (ids run to 128 characters) or not ASCII. Such a token is sent as a digest of itself: still one per
/// attempt, still the same on every retry. The status reports the attempt's own token, rebuilt from the instance's tags.
/// </summary>
public static class Ec2ClientTokens
{
    public const int MaxLength = 64;
    private const string DigestPrefix = "spotwise-";

    public static string For(string clientToken)
    {
        ArgumentNullException.ThrowIfNull(clientToken);
        return clientToken.Length <= MaxLength && clientToken.All(char.IsAscii)
            ? clientToken
            : DigestPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(clientToken)))[..(MaxLength - DigestPrefix.Length)];
    }
}
