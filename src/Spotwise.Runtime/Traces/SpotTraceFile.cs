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

        var trace = new SpotTrace(zone ?? ZoneOf(path), instanceType, startTime, TimeSpan.FromSeconds(gapSeconds), counts.MoveToImmutable());
        // Some files carry their own spot price per tick (the GCP H100 traces): `"prices": [$/h per tick]`.
        return root.TryGetProperty("prices", out var prices) ? trace.WithPrices(ReadSeries(path, "prices", prices, trace.TickCount)) : trace;
    }

    /// <summary>
    /// What a trace file's metadata says beyond the tick: the on-demand price and machine type
    /// (<c>metadata.price_info.on_demand_price</c>, <c>.machine_type</c> in the GCP H100 files) and <c>start_time</c> /
    /// <c>end_time</c> as written. Those two are provenance (where a Can't Be Late window was cut from its recording, or
    /// when a GCP file began), kept for display: the benchmark's simulator starts every window at index 0 of
    /// <c>data</c> (see <c>Spotwise.Simulation.Scenarios.TraceWindows</c>), and so does Spotwise. Absent fields are null.
    /// </summary>
    public static TraceMetadata ReadMetadata(string path)
    {
        using var document = Parse(path);
        if (!document.RootElement.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
        {
            return new TraceMetadata(null, null, null, null);
        }
        double? onDemand = null;
        string? machineType = null;
        if (metadata.TryGetProperty("price_info", out var info) && info.ValueKind == JsonValueKind.Object)
        {
            if (info.TryGetProperty("on_demand_price", out var od))
            {
                if (od.ValueKind != JsonValueKind.Number || !od.TryGetDouble(out var price) || !double.IsFinite(price) || price <= 0)
                {
                    throw new FormatException($"{path}: 'metadata.price_info.on_demand_price' is {Describe(od)}, expected a price in $/h > 0");
                }
                onDemand = price;
            }
            machineType = info.TryGetProperty("machine_type", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
        }
        return new TraceMetadata(onDemand, machineType, Provenance(metadata, "start_time"), Provenance(metadata, "end_time"));
    }

    // A number or a timestamp string, as written; never read as an offset into `data`.
    private static string? Provenance(JsonElement metadata, string name) =>
        !metadata.TryGetProperty(name, out var v) ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : v.ValueKind == JsonValueKind.Number ? v.GetRawText()
        : null;

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
            if (!series.TryAdd(property.Name, ReadSeries(path, property.Name, property.Value, null)))
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
            traces.Add(priceFiles.Count == 1 ? WithPricesFrom(trace, file, prices, priceFiles[0]) : trace);
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

    /// <summary>
    /// Reads one zone's availability file and, when the folder holds a price file (its name holds "prices") with a
    /// series for that zone, the trace's spot prices from it: how a single AWS V100 zone gets its prices.
    /// </summary>
    public static SpotTrace ReadWithFolderPrices(string path, string instanceType, DateTimeOffset startTime, TraceFormat format = TraceFormat.Counts)
    {
        var trace = Read(path, instanceType, startTime, format);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var priceFile = Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal)
            .FirstOrDefault(f => Path.GetFileName(f).Contains("prices", StringComparison.OrdinalIgnoreCase));
        return priceFile is null || Path.GetFullPath(priceFile) == Path.GetFullPath(path)
            ? trace
            : WithPricesFrom(trace, path, ReadPrices(priceFile), priceFile);
    }

    // The price series of `prices` for this trace's file (by file name stem, else by zone), if it has one.
    private static SpotTrace WithPricesFrom(SpotTrace trace, string file, IReadOnlyDictionary<string, ImmutableArray<double>> prices, string priceFile)
    {
        var stem = Path.GetFileNameWithoutExtension(file);
        var key = prices.ContainsKey(stem) ? stem : prices.Keys.FirstOrDefault(k => ZoneOf(k) == trace.Zone);
        if (key is null)
        {
            return trace;
        }
        var series = prices[key];
        if (series.Length != trace.TickCount)
        {
            throw new FormatException(
                $"{priceFile}: '{key}' has {series.Length} prices but {file} has {trace.TickCount} ticks; they must align tick for tick");
        }
        return trace.WithPrices(series);
    }

    // An array of $/h per tick; with `ticks`, it must hold exactly one price per tick.
    private static ImmutableArray<double> ReadSeries(string path, string name, JsonElement array, int? ticks)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{path}: '{name}' is {Describe(array)}, expected an array of $/h per tick");
        }
        if (ticks is { } n && array.GetArrayLength() != n)
        {
            throw new FormatException($"{path}: '{name}' has {array.GetArrayLength()} prices for {n} ticks; they must align tick for tick");
        }
        var prices = ImmutableArray.CreateBuilder<double>(array.GetArrayLength());
        var i = 0;
        foreach (var value in array.EnumerateArray())
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var price) || !double.IsFinite(price) || price < 0)
            {
                throw new FormatException($"{path}: '{name}[{i}]' is {Describe(value)}, expected a price in $/h >= 0");
            }
            prices.Add(price);
            i++;
        }
        return prices.MoveToImmutable();
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

/// <summary>
/// What a trace file's metadata tells beyond its tick length; null where it says nothing. <see cref="StartTime"/> and
/// <see cref="EndTime"/> are provenance, as written in the file (a number or a timestamp): never where replay starts.
/// </summary>
public sealed record TraceMetadata(double? OnDemandPricePerHourUsd, string? MachineType, string? StartTime, string? EndTime);
