using Spotwise.Core;
using Spotwise.Runtime.Traces;

namespace Spotwise.Simulation.Scenarios;

/// <summary>Where a scenario's market comes from and what overrides its prices (the simulate command's flags).</summary>
public sealed record MarketSource(
    TraceFormat Format = TraceFormat.Counts,
    string? InstanceType = null,
    double? OnDemandPricePerHourUsd = null,
    double? SpotPricePerHourUsd = null);

/// <summary>
/// Builds <see cref="ZoneTraces"/> from trace files. Prices, in order: <c>--spot-price</c> / <c>--on-demand-price</c>
/// when given (they override a trace's own); else the trace's spot price per tick (in the file, or a price file in its
/// folder) and the on-demand price of its metadata (the cheapest zone's, where zones differ); else the catalog's prices
/// for the instance type (<c>--instance-type</c>, else the file's machine type, else p3.2xlarge, the type of the
/// shipped V100 traces). Problems come back as lines naming the flag.
/// </summary>
public static class MarketLoader
{
    public const string DefaultInstanceType = "p3.2xlarge";

    /// <summary>One zone: <c>--trace FILE</c> (a price file in the same folder gives its spot prices).</summary>
    public static ZoneTraces? FromFile(string path, MarketSource source, Catalog catalog, List<string> errors) =>
        Build("--trace", [path], source, catalog, errors, p => [SpotTraceFile.ReadWithFolderPrices(p, "unknown", ZoneTraces.Origin, source.Format)]);

    /// <summary>Several zones aligned in time: <c>--trace-dir DIR</c>.</summary>
    public static ZoneTraces? FromDirectory(string directory, MarketSource source, Catalog catalog, List<string> errors)
    {
        if (!Directory.Exists(directory))
        {
            errors.Add($"--trace-dir: '{directory}' is not a folder");
            return null;
        }
        var files = TraceFiles(directory);
        return Build("--trace-dir", files, source, catalog, errors, _ => SpotTraceFile.ReadDirectory(directory, "unknown", ZoneTraces.Origin, source.Format));
    }

    /// <summary>The availability files of a folder (not its price file), in name order; by default its sub-folders' too.</summary>
    public static IReadOnlyList<string> TraceFiles(string directory, SearchOption search = SearchOption.AllDirectories) =>
        [.. Directory.GetFiles(directory, "*.json", search)
            .Where(f => !Path.GetFileName(f).Contains("prices", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)];

    /// <summary>
    /// A trace set's name for file names and chart labels: the folder's name and how many distinct zones its files
    /// cover ("aws-v100-9zones"; the 2022 folder's four traces are two zones, "aws-2022-2zones").
    /// </summary>
    public static string TraceSetName(string directory)
    {
        var zones = TraceFiles(directory).Select(SpotTraceFile.ZoneOf).Distinct(StringComparer.Ordinal).Count();
        return FormattableString.Invariant($"{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)))}-{zones}zones");
    }

    /// <summary>The market of <paramref name="files"/>, read by <paramref name="read"/>; problems are lines naming <paramref name="flag"/>.</summary>
    internal static ZoneTraces? Build(
        string flag, IReadOnlyList<string> files, MarketSource source, Catalog catalog, List<string> errors,
        Func<string, IReadOnlyList<SpotTrace>> read)
    {
        IReadOnlyList<SpotTrace> traces;
        List<(string Zone, TraceMetadata Meta)> metadata;
        try
        {
            traces = read(files.Count == 1 ? files[0] : "");
            metadata = [.. files.Select(f => (SpotTraceFile.ZoneOf(f), SpotTraceFile.ReadMetadata(f)))];
        }
        catch (Exception e) when (e is FormatException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            errors.Add($"{flag}: {e.Message}");
            return null;
        }
        if (traces.Count == 0)
        {
            errors.Add($"{flag}: no trace files");
            return null;
        }

        var typeName = source.InstanceType ?? metadata.Select(m => m.Meta.MachineType).FirstOrDefault(t => t is not null) ?? DefaultInstanceType;
        var entry = catalog.Find(typeName);
        if (source.InstanceType is not null && entry is null && (source.OnDemandPricePerHourUsd is null || source.SpotPricePerHourUsd is null))
        {
            errors.Add($"--instance-type: '{typeName}' is not in the catalog; give --on-demand-price and --spot-price for it");
            return null;
        }

        var tracedOnDemand = metadata.Where(m => m.Meta.OnDemandPricePerHourUsd is not null).OrderBy(m => m.Meta.OnDemandPricePerHourUsd).ToList();
        var onDemand = source.OnDemandPricePerHourUsd ?? tracedOnDemand.FirstOrDefault().Meta?.OnDemandPricePerHourUsd ?? entry?.OnDemandPricePerHourUsd;
        if (onDemand is null)
        {
            errors.Add($"--on-demand-price: the trace has no on-demand price and '{typeName}' is not in the catalog; give one");
            return null;
        }
        if (source.SpotPricePerHourUsd is not null)
        {
            traces = [.. traces.Select(t => t.WithPrices(default))];
        }
        var fallbackSpot = source.SpotPricePerHourUsd ?? entry?.SpotPricePerHourUsd;
        if (fallbackSpot is null && traces.Any(t => !t.HasPrices))
        {
            errors.Add($"--spot-price: the trace has no spot prices and '{typeName}' is not in the catalog; give one");
            return null;
        }
        var type = entry?.Type ?? new InstanceType(typeName, 0, 0, 0, null);
        var onDemandZone = source.OnDemandPricePerHourUsd is null && tracedOnDemand.Count > 0 ? tracedOnDemand[0].Zone : null;
        try
        {
            return new ZoneTraces(traces, type, onDemand.Value, fallbackSpot ?? 0, onDemandZone);
        }
        catch (ArgumentException e)
        {
            errors.Add($"{flag}: {e.Message}");
            return null;
        }
    }
}
