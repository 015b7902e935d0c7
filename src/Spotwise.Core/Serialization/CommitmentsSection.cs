using System.Collections.Immutable;
using System.Text.Json;

namespace Spotwise.Core.Serialization;

/// <summary>
/// The commitments of a limits file (docs/limits.md):
/// <code>
/// "reservedInstances": [ { "instanceType": "c5.large", "zone": "us-east-1a", "count": 4, "hourlyFeeUsd": 0.054 } ],
/// "savingsPlan": { "committedUsdPerHour": 2.5, "discountRate": 0.28 }
/// </code>
/// Every error names the field (<c>reservedInstances[0].zone</c>) and the value at fault.
/// </summary>
internal static class CommitmentsSection
{
    private static readonly string[] ReservedFields = ["instanceType", "zone", "count", "hourlyFeeUsd"];
    private static readonly string[] SavingsPlanFields = ["committedUsdPerHour", "discountRate"];

    public static Commitments Read(JsonElement root, Catalog? catalog, List<InputError> errors) => new()
    {
        ReservedInstances = ReadReserved(root, catalog, errors),
        SavingsPlan = ReadSavingsPlan(root, errors),
    };

    private static ImmutableArray<ReservedInstance> ReadReserved(JsonElement root, Catalog? catalog, List<InputError> errors)
    {
        const string field = "reservedInstances";
        if (!root.TryGetProperty(field, out var list) || list.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (list.ValueKind != JsonValueKind.Array)
        {
            errors.Add(Error(field, $"must be an array of {{instanceType, zone, count, hourlyFeeUsd}}, found {list.GetRawText()}"));
            return [];
        }
        var result = ImmutableArray.CreateBuilder<ReservedInstance>();
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            var at = $"{field}[{i++}]";
            if (ReadOneReserved(item, at, catalog, errors) is not { } reserved)
            {
                continue;
            }
            if (result.Any(r => r.Name == reserved.Name))
            {
                errors.Add(Error($"{at}.zone", $"{reserved.InstanceType} in '{reserved.Zone}' is declared twice; add the counts into one entry"));
                continue;
            }
            result.Add(reserved);
        }
        return result.ToImmutable();
    }

    private static ReservedInstance? ReadOneReserved(JsonElement item, string at, Catalog? catalog, List<InputError> errors)
    {
        if (!IsObjectOf(item, at, ReservedFields, errors))
        {
            return null;
        }
        var before = errors.Count;
        var type = ReadText(item, at, "instanceType", errors);
        if (type is not null && catalog is not null && catalog.Find(type) is null)
        {
            errors.Add(Error($"{at}.instanceType", $"'{type}' is not an instance type of the catalog"));
        }
        var zone = ReadText(item, at, "zone", errors);
        if (zone is not null && catalog is not null && ReservedInstance.RegionOf(catalog, zone) is null)
        {
            errors.Add(Error($"{at}.zone", $"'{zone}' is not a zone of the catalog's regions ({string.Join(", ", catalog.Regions)})"));
        }
        var count = ReadNumber(item, at, "count", errors, n => n >= 1 && n <= 100_000 && n == Math.Floor(n), "a whole number from 1 to 100000");
        var fee = ReadNumber(item, at, "hourlyFeeUsd", errors, n => n >= 0 && n < 1e6, "a number of USD >= 0");
        return errors.Count > before ? null : new ReservedInstance(type!, zone!, (int)count!.Value, fee!.Value);
    }

    private static SavingsPlan? ReadSavingsPlan(JsonElement root, List<InputError> errors)
    {
        const string field = "savingsPlan";
        if (!root.TryGetProperty(field, out var plan) || plan.ValueKind == JsonValueKind.Null || !IsObjectOf(plan, field, SavingsPlanFields, errors))
        {
            return null;
        }
        var before = errors.Count;
        var committed = ReadNumber(plan, field, "committedUsdPerHour", errors, n => n > 0 && n <= 100_000, "a number of USD per hour above 0 (at most 100000)");
        var rate = ReadNumber(plan, field, "discountRate", errors, n => n > 0 && n < 1, "a fraction between 0 and 1, e.g. 0.28 for 28% off");
        return errors.Count > before ? null : new SavingsPlan(committed!.Value, rate!.Value);
    }

    /// <summary>An object with only the known fields: a misspelt one is an error, not a silent default.</summary>
    private static bool IsObjectOf(JsonElement e, string at, string[] fields, List<InputError> errors)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            errors.Add(Error(at, $"must be an object with {string.Join(", ", fields)}, found {e.GetRawText()}"));
            return false;
        }
        var ok = true;
        foreach (var p in e.EnumerateObject().Where(p => !fields.Contains(p.Name, StringComparer.Ordinal)))
        {
            errors.Add(Error($"{at}.{p.Name}", $"is not a field here; known: {string.Join(", ", fields)}"));
            ok = false;
        }
        return ok;
    }

    private static string? ReadText(JsonElement e, string at, string name, List<InputError> errors)
    {
        if (e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } text)
        {
            return text;
        }
        errors.Add(Error($"{at}.{name}", $"must be a non-empty string, found {(e.TryGetProperty(name, out var found) ? found.GetRawText() : "nothing")}"));
        return null;
    }

    private static double? ReadNumber(JsonElement e, string at, string name, List<InputError> errors, Func<double, bool> ok, string expected)
    {
        if (e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var n) && ok(n))
        {
            return n;
        }
        errors.Add(Error($"{at}.{name}", $"must be {expected}, found {(e.TryGetProperty(name, out var found) ? found.GetRawText() : "nothing")}"));
        return null;
    }

    private static InputError Error(string field, string message) => new("limits file", field, message);
}
