using System.Security.Cryptography;
using System.Text;

namespace Spotwise.Runtime.Attempts;

/// <summary>
/// The per-attempt secret an agent presents (<c>Authorization: Bearer &lt;secret&gt;</c>): HMAC-SHA256 of the attempt's
/// client token under the installation's agent key, in lower-case hex. Derived, never stored: the backend that writes it
/// into the instance's user data and the endpoint that checks it compute the same value, a restart loses nothing, and
/// the same launch retried carries the same secret (EC2 holds a retried client token to the same request, user data
/// included). A secret opens one attempt's events and nothing else; it is not a team key.
/// </summary>
public sealed class AttemptSecrets
{
    /// <summary>The least key length, in bytes: HMAC-SHA256's block of strength.</summary>
    public const int MinKeyBytes = 32;

    private readonly byte[] _key;

    public AttemptSecrets(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinKeyBytes)
        {
            throw new ArgumentException($"the agent key is {key.Length} bytes; it must be at least {MinKeyBytes}", nameof(key));
        }
        _key = key.ToArray();
    }

    /// <summary>A fresh random key of <see cref="MinKeyBytes"/> bytes.</summary>
    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(MinKeyBytes);

    /// <summary>The secret of the attempt whose client token is <paramref name="clientToken"/>.</summary>
    public string For(string clientToken)
    {
        ArgumentNullException.ThrowIfNull(clientToken);
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(clientToken)));
    }

    /// <summary>Whether <paramref name="presented"/> is the attempt's secret, compared in constant time.</summary>
    public bool Verify(string clientToken, string? presented) =>
        presented is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(For(clientToken)), Encoding.UTF8.GetBytes(presented));
}
