using System.Collections.Immutable;
using System.Globalization;

namespace Spotwise.Core;

/// <summary>
/// What moving one GB from one region to another costs, per ordered pair (a cloud bills the transfer out of the source
/// region, so the price belongs to the source). Within one region moving data costs nothing. A pair the table does not
/// name has no known price: a job whose data lives at one end is not offered the other.
/// </summary>
public sealed class TransferPrices
{
    private readonly ImmutableDictionary<(string From, string To), double> _usdPerGb;

    public TransferPrices(IEnumerable<(string From, string To, double UsdPerGb)> pairs)
    {
        _usdPerGb = pairs.ToImmutableDictionary(p => (p.From, p.To), p => p.UsdPerGb);
        Regions = [.. _usdPerGb.Keys.SelectMany(k => new[] { k.From, k.To }).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    public static TransferPrices None { get; } = new([]);

    /// <summary>Every region the table names, at either end.</summary>
    public ImmutableArray<string> Regions { get; }

    /// <summary>$/GB from <paramref name="from"/> to <paramref name="to"/>: 0 within a region, null when the table has no price.</summary>
    public double? UsdPerGb(string from, string to) =>
        string.Equals(from, to, StringComparison.Ordinal) ? 0 : _usdPerGb.TryGetValue((from, to), out var usd) ? usd : null;
}

/// <summary>Reads a transfer table CSV (header: from_region,to_region,usd_per_gb).</summary>
public static class TransferCsv
{
    public static TransferPrices Parse(TextReader reader, string source)
    {
        var header = reader.ReadLine() ?? throw new FormatException($"{source}: the transfer table is empty");
        var columns = header.Split(',').Select(c => c.Trim()).ToList();
        int Col(string name) => columns.IndexOf(name) is >= 0 and var i ? i
            : throw new FormatException($"{source}: the transfer table's header lacks {name}");
        var (from, to, usd) = (Col("from_region"), Col("to_region"), Col("usd_per_gb"));
        var pairs = new Dictionary<(string, string), double>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var f = line.Split(',').Select(x => x.Trim()).ToArray();
            if (f.Length < columns.Count)
            {
                throw new FormatException($"{source}:{lineNumber}: expected {columns.Count} fields, found {f.Length}");
            }
            if (!double.TryParse(f[usd], NumberStyles.Float, CultureInfo.InvariantCulture, out var price) || !(price >= 0) || !double.IsFinite(price))
            {
                throw new FormatException($"{source}:{lineNumber}: usd_per_gb '{f[usd]}' is not a number >= 0");
            }
            if (!pairs.TryAdd((f[from], f[to]), price))
            {
                throw new FormatException($"{source}:{lineNumber}: {f[from]} -> {f[to]} is listed twice");
            }
        }
        return new TransferPrices(pairs.Select(p => (p.Key.Item1, p.Key.Item2, p.Value)));
    }
}

/// <summary>
/// Moving a job's input (<see cref="Job.InputDataSizeGB"/>) from where it lives (<see cref="Job.DataRegion"/>, else the
/// catalog's home region) to the region of the offer it runs on: GB × $/GB of the catalog's transfer table, and
/// GB × 8 / Gbps seconds at the planning bandwidth (<see cref="PlanningSettings.TransferGbps"/>). The data moves after the
/// instance boots and before the work starts, on the instance: the run holds (and pays for) its instance that much longer.
/// </summary>
public readonly record struct DataTransfer(double Hours, double CostUsd)
{
    public static DataTransfer None => default;

    /// <summary>The move a job needs to run on <paramref name="offer"/>; null when the table has no price for the pair.</summary>
    public static DataTransfer? For(Job job, Offer offer, Catalog catalog, PlanningSettings settings) =>
        For(job, offer.Region, catalog, settings.TransferGbps);

    /// <summary>The move a job needs to run in <paramref name="region"/> at <paramref name="gbps"/>; null when the table has no price for the pair.</summary>
    public static DataTransfer? For(Job job, string region, Catalog catalog, double gbps)
    {
        var from = job.DataRegion ?? catalog.Region;
        var gb = job.InputDataSizeGB ?? 0;
        if (gb <= 0 || string.Equals(from, region, StringComparison.Ordinal))
        {
            return None;
        }
        return catalog.Transfer.UsdPerGb(from, region) is { } usdPerGb ? new DataTransfer(HoursToMove(gb, gbps), gb * usdPerGb) : null;
    }

    /// <summary>How long <paramref name="gb"/> GB take at <paramref name="gbps"/> Gbit/s, in hours: GB × 8 / Gbps seconds.</summary>
    public static double HoursToMove(double gb, double gbps) => gb * 8 / gbps / 3600;

    /// <summary>
    /// How long moving the job's input into <paramref name="region"/> takes, whatever it costs (0 when the data is there):
    /// the runtime asks for the time of a launch the plan did not choose (a move or a fallback), where the price is moot.
    /// </summary>
    public static double HoursInto(Job job, string region, Catalog catalog, double gbps) =>
        job.InputDataSizeGB is > 0 and var gb && !string.Equals(job.DataRegion ?? catalog.Region, region, StringComparison.Ordinal) ? HoursToMove(gb, gbps) : 0;

    /// <summary>The job as it runs after the move: the transfer added to what its instance is held (and paid) for.</summary>
    public Job Onto(Job job) => Hours <= 0 ? job : job with { DurationHours = job.DurationHours + Hours };

    /// <summary>The expected cost of running <paramref name="job"/> on <paramref name="offer"/> after this move: the cost model's, plus the transfer.</summary>
    public double ExpectedCostUsd(Job job, Offer offer, double onDemandFallbackPricePerHourUsd) =>
        CostModel.ExpectedCostUsd(Onto(job), offer, onDemandFallbackPricePerHourUsd) + CostUsd;
}
