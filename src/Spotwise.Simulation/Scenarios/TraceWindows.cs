using Spotwise.Core;
using Spotwise.Runtime.Traces;

namespace Spotwise.Simulation.Scenarios;

/// <summary>
/// One scenario of <c>simulate --windows DIR</c>: a trace file directly in DIR (one zone), or a sub-folder of DIR whose
/// trace files are the zones of one multi-zone scenario, aligned tick for tick.
/// </summary>
public sealed record TraceWindow(string Path, IReadOnlyList<string> ZoneFiles)
{
    /// <summary>Whether this window is a sub-folder (its files are the zones) rather than one file.</summary>
    public bool IsFolder => ZoneFiles is not [var only] || only != Path;
}

/// <summary>
/// Reads a folder of trace windows as the published Can't Be Late benchmark reads its trace files: every window starts
/// at index 0 of its <c>data</c>. In the benchmark's simulator (sky_spot, <c>env.py</c>: <c>TraceEnv</c>; read in
/// andylizf/skynomad-artifact and Michaelvll/skypilot-spot-strategy, <c>sky_spot/env.py</c>) the start index is 0
/// unless its command line's <c>--env-start-hours</c> says otherwise, and <c>metadata</c> lends only
/// <c>gap_seconds</c> (and prices); <c>metadata.start_time</c> / <c>end_time</c> record where the window was cut from
/// the original recording, so they are provenance here too, never an offset into <c>data</c>. Its multi-region runs
/// (<c>MultiTraceEnv</c>) take one file per region, all with the same tick length.
/// </summary>
public static class TraceWindows
{
    private const string Flag = "--windows";

    /// <summary>
    /// The windows of <paramref name="directory"/>, in path order: each trace file directly in it (a price file, whose
    /// name holds "prices", is not a window) and each sub-folder that holds trace files. Deeper folders are not read.
    /// </summary>
    public static IReadOnlyList<TraceWindow> In(string directory)
    {
        var files = TopLevelTraceFiles(directory).Select(f => new TraceWindow(f, [f]));
        var folders = Directory.GetDirectories(directory)
            .Select(d => new TraceWindow(d, TopLevelTraceFiles(d)))
            .Where(w => w.ZoneFiles.Count > 0);
        return [.. files.Concat(folders).OrderBy(w => w.Path, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Each window of <paramref name="directory"/> as a market and the job <paramref name="job"/> in it from tick 0.
    /// Null when anything is wrong, with one line per problem in <paramref name="errors"/> naming the file or folder.
    /// </summary>
    public static IReadOnlyList<(ZoneTraces Market, JobScenario Scenario)>? Load(
        string directory, JobScenario job, MarketSource source, Catalog catalog, List<string> errors)
    {
        if (!Directory.Exists(directory))
        {
            errors.Add($"{Flag}: '{directory}' is not a folder");
            return null;
        }
        var windows = In(directory);
        if (windows.Count == 0)
        {
            errors.Add($"{Flag}: '{directory}' holds no trace files (*.json) and no sub-folder of them");
            return null;
        }
        var cases = new List<(ZoneTraces, JobScenario)>();
        var scenario = job with { StartTick = 0 };
        foreach (var window in windows)
        {
            var market = Market(window, source, catalog, errors);
            if (market is null)
            {
                continue;
            }
            var problems = scenario.Validate(market);
            errors.AddRange(problems.Select(p => $"{Flag}: {window.Path}: {p}"));
            if (problems.Count == 0)
            {
                cases.Add((market, scenario));
            }
        }
        return errors.Count == 0 ? cases : null;
    }

    private static ZoneTraces? Market(TraceWindow window, MarketSource source, Catalog catalog, List<string> errors) =>
        window.IsFolder
            ? MarketLoader.Build(Flag, window.ZoneFiles, source, catalog, errors, _ => Aligned(window, SpotTraceFile.ReadDirectory(window.Path, "unknown", ZoneTraces.Origin, source.Format)))
            : MarketLoader.Build(Flag, window.ZoneFiles, source, catalog, errors, f => [SpotTraceFile.ReadWithFolderPrices(f, "unknown", ZoneTraces.Origin, source.Format)]);

    // The zones of one scenario are replayed tick for tick, so a file that is longer, shorter or ticks differently is
    // refused here, naming both files (the market's own check can only name zones).
    private static IReadOnlyList<SpotTrace> Aligned(TraceWindow window, IReadOnlyList<SpotTrace> traces)
    {
        var first = traces[0];
        for (var i = 1; i < traces.Count; i++)
        {
            var t = traces[i];
            if (t.TickCount != first.TickCount || t.Tick != first.Tick)
            {
                throw new FormatException(
                    $"{window.Path}: {Name(window.ZoneFiles[0])} has {first.TickCount} ticks of {first.Tick.TotalSeconds} s but {Name(window.ZoneFiles[i])} has " +
                    $"{t.TickCount} ticks of {t.Tick.TotalSeconds} s; the zones of a window must align tick for tick");
            }
        }
        return traces;
    }

    private static string Name(string file) => System.IO.Path.GetFileName(file);

    private static IReadOnlyList<string> TopLevelTraceFiles(string directory) => MarketLoader.TraceFiles(directory, SearchOption.TopDirectoryOnly);
}
