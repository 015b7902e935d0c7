using System.Collections.Immutable;
using System.Text.Json;

namespace Spotwise.Core.Serialization;

/// <summary>
/// Reads a limits file (docs/limits.md):
/// <code>
/// { "onDemandVcpuQuotas": { "standard": 2048, "g": 1024, "p": 768 }, "defaultOnDemandVcpuQuota": 256,
///   "spotPoolSizes": { "p3.2xlarge": 8 }, "defaultSpotPoolSize": 32 }
/// </code>
/// A number may be replaced by "unlimited". Fields left out keep the built-in defaults, and so do the quota
/// classes a quota map leaves out. <c>reservedInstances</c> and <c>savingsPlan</c> declare commitments
/// (<see cref="CommitmentsSection"/>).
/// </summary>
public static class LimitsFile
{
    public static ParseResult<CapacityLimits> Parse(string json, Catalog? catalog = null)
    {
        var errors = new List<InputError>();
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new(null, [new InputError("limits file", "", "expected a JSON object")]);
            }
            var d = CapacityLimits.Default;
            var limits = new CapacityLimits
            {
                OnDemandVcpuQuotas = ReadMap(root, "onDemandVcpuQuotas", d.OnDemandVcpuQuotas, key =>
                    QuotaClasses.All.Contains(key) ? null : $"'{key}' is not a quota class; known: {string.Join(", ", QuotaClasses.All)}", errors),
                DefaultOnDemandVcpuQuota = ReadCount(root, "defaultOnDemandVcpuQuota", d.DefaultOnDemandVcpuQuota, errors),
                SpotPoolSizes = ReadMap(root, "spotPoolSizes", d.SpotPoolSizes, key =>
                    catalog is null || catalog.Find(key) is not null ? null : $"'{key}' is not an instance type of the catalog", errors),
                DefaultSpotPoolSize = ReadCount(root, "defaultSpotPoolSize", d.DefaultSpotPoolSize, errors),
                Commitments = CommitmentsSection.Read(root, catalog, errors),
            };
            return new(errors.Count == 0 ? limits : null, errors);
        }
        catch (JsonException e)
        {
            return new(null, [new InputError("limits file", "", $"malformed JSON at line {e.LineNumber + 1}")]);
        }
    }

    private static ImmutableDictionary<string, int> ReadMap(JsonElement root, string field, ImmutableDictionary<string, int> fallback,
        Func<string, string?> checkKey, List<InputError> errors)
    {
        if (!root.TryGetProperty(field, out var map) || map.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        if (map.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new InputError("limits file", field, $"must be an object of name to count, found {map.GetRawText()}"));
            return fallback;
        }
        // A map names the entries it changes; the others keep their defaults (docs/limits.md).
        var result = fallback.WithComparers(StringComparer.Ordinal).ToBuilder();
        foreach (var p in map.EnumerateObject())
        {
            if (checkKey(p.Name) is { } bad)
            {
                errors.Add(new InputError("limits file", $"{field}.{p.Name}", bad));
                continue;
            }
            result[p.Name] = ReadCountValue(p.Value, $"{field}.{p.Name}", errors) ?? 0;
        }
        return result.ToImmutable();
    }

    private static int ReadCount(JsonElement root, string field, int fallback, List<InputError> errors) =>
        root.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null ? ReadCountValue(v, field, errors) ?? fallback : fallback;

    private static int? ReadCountValue(JsonElement v, string field, List<InputError> errors)
    {
        if (v.ValueKind == JsonValueKind.String && v.GetString() == "unlimited")
        {
            return CapacityLimits.Unlimited;
        }
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n >= 0)
        {
            return n;
        }
        errors.Add(new InputError("limits file", field, $"must be a whole number >= 0 or \"unlimited\", found {v.GetRawText()}"));
        return null;
    }
}
