using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Spotwise.Compute.Kubernetes;

/// <summary>
/// Names and label values as Kubernetes accepts them
/// (https://kubernetes.io/docs/concepts/overview/working-with-objects/names/ and labels/#syntax-and-character-set): a Job's
/// name is a DNS-1123 label (at most 63 characters of <c>[a-z0-9-]</c>, alphanumeric at both ends), so its pods' labels
/// can carry it; a label value is at most 63 characters of <c>[A-Za-z0-9._-]</c>, alphanumeric at both ends.
/// </summary>
public static class KubeNames
{
    public const int MaxLength = 63;

    /// <summary>The hex digits of the hash that makes a name or a changed value collision-safe (40 bits).</summary>
    private const int HashLength = 10;

    /// <summary>
    /// The Job name of an attempt: its team, id and attempt made readable (<c>ml-train-a1-</c>), then a hash of the
    /// installation and the client token, so the name is stable (a retried launch finds the same Job), two tokens that
    /// sanitise alike still differ, and two installations sharing a namespace never claim each other's Jobs.
    /// </summary>
    public static string JobName(string managedBy, string clientToken, string team, string jobId, int attempt)
    {
        var suffix = string.Create(CultureInfo.InvariantCulture, $"-a{attempt}-{Hash(managedBy + "\n" + clientToken)}");
        var readable = Sanitise($"{team}-{jobId}".ToLowerInvariant(), c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'), '-');
        readable = readable[..Math.Min(readable.Length, MaxLength - suffix.Length)].Trim('-');
        return (readable.Length == 0 ? "job" : readable) + suffix;
    }

    /// <summary>
    /// <paramref name="value"/> as a label value: as it is when valid; otherwise its allowed characters, cut to fit, and a
    /// hash of the exact value (the exact value is kept in an annotation).
    /// </summary>
    public static string LabelValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (IsLabelValue(value))
        {
            return value;
        }
        var suffix = "-" + Hash(value);
        var kept = Sanitise(value, IsLabelChar, '_');
        kept = kept[..Math.Min(kept.Length, MaxLength - suffix.Length)].Trim('-', '_', '.');
        return (kept.Length == 0 ? "v" : kept) + suffix;
    }

    /// <summary>Whether <paramref name="value"/> is a valid label value as it is.</summary>
    public static bool IsLabelValue(string value) =>
        value.Length <= MaxLength && value.All(IsLabelChar) && (value.Length == 0 || (char.IsAsciiLetterOrDigit(value[0]) && char.IsAsciiLetterOrDigit(value[^1])));

    /// <summary>Whether <paramref name="name"/> is a DNS-1123 label.</summary>
    public static bool IsDnsLabel(string name) =>
        name.Length is > 0 and <= MaxLength && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') && name[0] != '-' && name[^1] != '-';

    private static bool IsLabelChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    private static string Sanitise(string value, Func<char, bool> allowed, char replacement)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            builder.Append(allowed(c) ? c : replacement);
        }
        return builder.ToString();
    }

    private static string Hash(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..HashLength];
}
