using Spotwise.Runtime.Traces;
using Spotwise.Simulation.Scenarios;

namespace Spotwise.Simulation.Tests.Scenarios;

/// <summary><c>simulate --windows DIR</c>: windows in the published Can't Be Late format, read as its simulator reads them.</summary>
public sealed class TraceWindowsTests : IDisposable
{
    // 20 h of work due in 26 h: 156 ticks of 600 s.
    private static readonly JobScenario Job = new(WorkHours: 20, DeadlineHours: 26, OverheadHours: 0.2, StartTick: 0);
    private static readonly MarketSource Preempted = new(TraceFormat.Preempted);

    private readonly string _dir = Directory.CreateTempSubdirectory("spotwise-windows-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A window as the benchmark publishes it: metadata with the tick and where it was cut from, data 1 = preempted.
    private string Window(string relative, int ticks, int gapSeconds = 600, int startTime = 0, int firstPreempted = 0)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var data = string.Join(",", Enumerable.Range(0, ticks).Select(i => i < firstPreempted ? 1 : i % 7 == 0 ? 1 : 0));
        File.WriteAllText(path,
            $$"""{"metadata": {"gap_seconds": {{gapSeconds}}, "start_time": {{startTime}}, "end_time": {{startTime + ticks}}}, "data": [{{data}}]}""");
        return path;
    }

    [Fact]
    public void A_window_whose_metadata_start_time_lies_past_its_data_is_replayed_from_index_0()
    {
        var far = Window("0.json", ticks: 200, startTime: 100_000);
        Window("1.json", ticks: 200, startTime: 60); // 60 + 156 ticks would run past 200: refused when start_time was an offset

        var errors = new List<string>();
        var cases = TraceWindows.Load(_dir, Job, Preempted, ShippedData.Catalog, errors);

        Assert.Empty(errors);
        Assert.Equal(2, cases!.Count);
        Assert.All(cases, c => Assert.Equal(0, c.Scenario.StartTick));
        Assert.All(cases, c => Assert.Equal(200, c.Market.TickCount));
        Assert.Equal("100000", SpotTraceFile.ReadMetadata(far).StartTime); // kept, as provenance
    }

    [Fact]
    public void A_window_starts_at_index_0_of_its_data_even_where_the_metadata_points_elsewhere()
    {
        Window("0.json", ticks: 200, startTime: 100, firstPreempted: 3);

        var cases = TraceWindows.Load(_dir, Job, Preempted, ShippedData.Catalog, [])!;

        var market = cases.Single().Market;
        Assert.Equal(0, cases.Single().Scenario.StartTick);
        Assert.False(market.Available(0, 0)); // data[0] = 1: preempted, and the job sees it first
        Assert.True(market.Available(0, 3));
    }

    [Fact]
    public void A_sub_folder_of_aligned_zone_files_is_one_multi_zone_scenario_beside_the_single_zone_files()
    {
        Window("0.json", ticks: 200);
        Window(Path.Combine("east-west", "us-east-1a_v100_1.json"), ticks: 180, firstPreempted: 5);
        Window(Path.Combine("east-west", "us-west-2a_v100_1.json"), ticks: 180);

        var errors = new List<string>();
        var cases = TraceWindows.Load(_dir, Job, Preempted, ShippedData.Catalog, errors);

        Assert.Empty(errors);
        Assert.Equal(2, cases!.Count);
        Assert.Equal(1, cases[0].Market.ZoneCount);
        var multi = cases[1].Market;
        Assert.Equal(["us-east-1a", "us-west-2a"], multi.Zones.ToArray());
        Assert.Equal(180, multi.TickCount);
        Assert.Equal(0, cases[1].Scenario.StartTick);
        Assert.False(multi.Available(0, 0));
        Assert.True(multi.Available(1, 1));
    }

    [Theory]
    [InlineData(179, 600, "180 ticks of 600 s", "179 ticks of 600 s")]
    [InlineData(180, 300, "180 ticks of 600 s", "180 ticks of 300 s")]
    public void A_sub_folder_whose_zone_files_do_not_align_is_refused_naming_both_files(int ticks, int gap, string first, string second)
    {
        Window(Path.Combine("pair", "us-east-1a_v100_1.json"), ticks: 180);
        Window(Path.Combine("pair", "us-west-2a_v100_1.json"), ticks: ticks, gapSeconds: gap);

        var errors = new List<string>();
        var cases = TraceWindows.Load(_dir, Job, Preempted, ShippedData.Catalog, errors);

        Assert.Null(cases);
        var error = Assert.Single(errors);
        Assert.StartsWith("--windows: ", error, StringComparison.Ordinal);
        Assert.Contains($"us-east-1a_v100_1.json has {first}", error, StringComparison.Ordinal);
        Assert.Contains($"us-west-2a_v100_1.json has {second}", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_window_shorter_than_the_deadline_is_refused_naming_its_file()
    {
        var path = Window("short.json", ticks: 100);

        var errors = new List<string>();

        Assert.Null(TraceWindows.Load(_dir, Job, Preempted, ShippedData.Catalog, errors));
        Assert.Equal($"--windows: {path}: --deadline-hours: 26 h from tick 0 runs past the trace's end (100 ticks of 0.167 h)", Assert.Single(errors));
    }
}
