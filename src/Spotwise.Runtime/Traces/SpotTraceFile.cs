using System.Collections.Immutable;
using System.Text.Json;

namespace Spotwise.Runtime.Traces;

/// <summary>What a trace file's <c>data[i]</c> means.</summary>
public enum TraceFormat
{
    /// <summary>How many spot instances could be had at tick i; 0 = none (skypilot-org/spot-traces availability files).</summary>
    Counts,

    /// <summary>1 = spot NOT available at tick i, 0 = available (the GCP H100 files, the Can't Be Late simulator traces).</summary>
    Preempted,
}

/// <summary>
/// Reads spot traces as skypilot-org/spot-traces lays them out: one file per zone,
/// <c>{"metadata": {"gap_seconds": 195}, "data": [1, 1, 0, ...]}</c>, named <c>&lt;zone&gt;_&lt;gpu&gt;_&lt;count&gt;.json</c>;
/// and price files <c>{"&lt;zone&gt;_v100_1": [$/h per tick], ...}</c> aligned tick for tick with them. A file says
/// neither its instance type nor when it began: the caller gives both. Bad files are answered with a
/// <see cref="FormatException"/> naming the file and the field.
/// </summary>
public static class SpotTraceFile
{
    /// <summary>The zone a trace file or price key stands for: what comes before the first '_' ("us-west-2a_v100_1").</summary>
    public static string ZoneOf(string keyOrPath)
    {
        var stem = Path.GetFileNameWithoutExtension(keyOrPath);
        var underscore = stem.IndexOf('_', StringComparison.Ordinal);
        return underscore > 0 ? stem[..underscore] : stem;
    }

    /// <summary>Reads one zone's availability file; its zone comes from the file name unless <paramref name="zone"/> is given.</summary>
    public static SpotTrace Read(
        string path,
        string instanceType,
        DateTimeOffset startTime,
        TraceFormat format = TraceFormat.Counts,
        string? zone = null)
    {
        using var document = Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{path}: expected a JSON object with 'metadata' and 'data', found {Describe(root)}");
        }
        if (!root.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{path}: 'metadata' is missing or not an object");
        }
        if (!metadata.TryGetProperty("gap_seconds", out var gap))
        {
            throw new FormatException($"{path}: 'metadata.gap_seconds' (the tick length) is missing");
        }
        if (gap.ValueKind != JsonValueKind.Number || !gap.TryGetDouble(out var gapSeconds) || !(gapSeconds > 0))
        {
            throw new FormatException($"{path}: 'metadata.gap_seconds' is {Describe(gap)}, expected a number of seconds > 0");
        }
        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{path}: 'data' is missing or not an array");
        }
        if (data.GetArrayLength() == 0)
        {
            throw new FormatException($"{path}: 'data' is empty; a trace needs at least one tick");
        }

        var counts = ImmutableArray.CreateBuilder<int>(data.GetArrayLength());
        var i = 0;
        foreach (var value in data.EnumerateArray())
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || number < 0 || number != Math.Floor(number) || number > int.MaxValue)
            {
                throw new FormatException($"{path}: 'data[{i}]' is {Describe(value)}, expected a whole number >= 0");
            }
            var n = (int)number;
            if (format == TraceFormat.Preempted)
            {
                n = n switch
                {
                    0 => 1,
                    1 => 0,
                    _ => throw new FormatException($"{path}: 'data[{i}]' is {n}; the preempted format holds 0 (available) or 1 (preempted)"),
                };
            }
            counts.Add(n);
            i++;
        }

        return new SpotTrace(zone ?? ZoneOf(path), instanceType, startTime, TimeSpan.FromSeconds(gapSeconds), counts.MoveToImmutable());
    }

    /// <summary>Reads a price file: its keys as written ("us-east-1a_v100_1") with their $/h per tick.</summary>
    public static IReadOnlyDictionary<string, ImmutableArray<double>> ReadPrices(string path)
    {
        using var document = Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{path}: expected a JSON object of price series keyed by zone, found {Describe(root)}");
        }
        var series = new Dictionary<string, ImmutableArray<double>>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException($"{path}: '{property.Name}' is {Describe(property.Value)}, expected an array of $/h per tick");
            }
            var prices = ImmutableArray.CreateBuilder<double>(property.Value.GetArrayLength());
            var i = 0;
            foreach (var value in property.Value.EnumerateArray())
            {
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var price) || !double.IsFinite(price) || price < 0)
                {
                    throw new FormatException($"{path}: '{property.Name}[{i}]' is {Describe(value)}, expected a price in $/h >= 0");
                }
                prices.Add(price);
                i++;
            }
            if (!series.TryAdd(property.Name, prices.MoveToImmutable()))
            {
                throw new FormatException($"{path}: '{property.Name}' appears twice");
            }
        }
        return series;
    }

    /// <summary>
    /// Reads every zone of a folder: each <c>*.json</c> is an availability file, except one whose name holds "prices"
    /// (a price file for those zones, matched by file name stem, else by zone). Zones in file-name order; all anchored at
    /// <paramref name="startTime"/>.
    /// </summary>
    public static IReadOnlyList<SpotTrace> ReadDirectory(
        string directory,
        string instanceType,
        DateTimeOffset startTime,
        TraceFormat format = TraceFormat.Counts)
    {
        if (!Directory.Exists(directory))
        {
            throw new FileNotFoundException($"{directory}: no such trace folder", directory);
        }
        var files = Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal).ToList();
        var priceFiles = files.Where(f => Path.GetFileName(f).Contains("prices", StringComparison.OrdinalIgnoreCase)).ToList();
        if (priceFiles.Count > 1)
        {
            throw new FormatException($"{directory}: more than one price file ({string.Join(", ", priceFiles.Select(Path.GetFileName))})");
        }
        var prices = priceFiles.Count == 1 ? ReadPrices(priceFiles[0]) : new Dictionary<string, ImmutableArray<double>>();
        var traces = new List<SpotTrace>();
        foreach (var file in files.Except(priceFiles))
        {
            var trace = Read(file, instanceType, startTime, format);
            var stem = Path.GetFileNameWithoutExtension(file);
            var key = prices.ContainsKey(stem) ? stem : prices.Keys.FirstOrDefault(k => ZoneOf(k) == trace.Zone);
            if (key is not null)
            {
                var series = prices[key];
                if (series.Length != trace.TickCount)
                {
                    throw new FormatException(
                        $"{priceFiles[0]}: '{key}' has {series.Length} prices but {file} has {trace.TickCount} ticks; they must align tick for tick");
                }
                trace = trace.WithPrices(series);
            }
            traces.Add(trace);
        }
        if (traces.Count == 0)
        {
            throw new FormatException($"{directory}: no trace files (*.json)");
        }
        var duplicate = traces.GroupBy(t => t.Zone, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new FormatException($"{directory}: more than one trace for zone {duplicate.Key}");
        }
        return traces;
    }

    private static JsonDocument Parse(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such trace file", path);
        }
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string \"{value.GetString()}\"",
        JsonValueKind.Null => "null",
        _ => value.GetRawText(),
    };
}
