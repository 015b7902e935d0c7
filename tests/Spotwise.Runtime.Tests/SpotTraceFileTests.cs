using Spotwise.Runtime.Traces;
using static Spotwise.Runtime.Tests.SimTestData;

namespace Spotwise.Runtime.Tests;

public sealed class SpotTraceFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spotwise-traces-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string json)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void The_real_V100_traces_load_as_9_zones_of_20158_ticks_of_195_seconds_with_aligned_prices()
    {
        var traces = SpotTraceFile.ReadDirectory(TraceFiles.V100Directory, V100, T0);

        Assert.Equal(
            ["us-east-1a", "us-east-1c", "us-east-1d", "us-east-1f", "us-east-2a", "us-east-2b", "us-west-2a", "us-west-2b", "us-west-2c"],
            traces.Select(t => t.Zone));
        Assert.All(traces, t =>
        {
            Assert.Equal(20_158, t.TickCount);
            Assert.Equal(TimeSpan.FromSeconds(195), t.Tick);
            Assert.True(t.HasPrices);
            Assert.Equal(t.TickCount, t.SpotPricesPerHourUsd.Length);
            Assert.All(t.Available, a => Assert.InRange(a, 0, 1));
            Assert.All(t.SpotPricesPerHourUsd, p => Assert.InRange(p, 0.9, 1.9));
            Assert.Equal(V100, t.InstanceType);
            Assert.Equal(T0, t.StartTime);
        });

        var east1a = traces.Single(t => t.Zone == "us-east-1a");
        Assert.Equal(1.6703, east1a.SpotPricesPerHourUsd[0]);
        Assert.Equal(1.4429, east1a.SpotPricesPerHourUsd[^1]);
        Assert.Equal(T0.AddSeconds(195 * 20_158), east1a.EndTime);

        // us-west-2a: spot for the first 52 ticks, gone for 6, back at tick 58.
        var west2a = traces.Single(t => t.Zone == "us-west-2a");
        Assert.Equal(0.918, west2a.SpotPriceAt(T0));
        Assert.Equal(T0.AddSeconds(52 * 195), west2a.NextChange(T0));
        Assert.Equal(T0.AddSeconds(58 * 195), west2a.NextChange(T0.AddSeconds(52 * 195)));
        Assert.Equal(17_801, west2a.Available.Sum());
    }

    [Fact]
    public void The_zone_comes_from_the_file_name()
    {
        Assert.Equal("us-west-2a", SpotTraceFile.ZoneOf("/x/us-west-2a_v100_1.json"));
        Assert.Equal("us-west-2a", SpotTraceFile.ZoneOf("us-west-2a_v100_1"));
        Assert.Equal("zone", SpotTraceFile.ZoneOf("zone.json"));
    }

    [Fact]
    public void A_counts_file_reads_its_tick_and_counts()
    {
        var path = Write("z1_v100_1.json", """{"metadata": {"gap_seconds": 300}, "data": [0, 3, 16, 2.0]}""");

        var trace = SpotTraceFile.Read(path, V100, T0);

        Assert.Equal("z1", trace.Zone);
        Assert.Equal(TimeSpan.FromMinutes(5), trace.Tick);
        Assert.Equal([0, 3, 16, 2], trace.Available.ToArray());
    }

    [Fact]
    public void A_preempted_file_is_read_inverted()
    {
        var path = Write("z1.json", """{"metadata": {"gap_seconds": 600}, "data": [0, 1, 1, 0]}""");

        Assert.Equal([1, 0, 0, 1], SpotTraceFile.Read(path, V100, T0, TraceFormat.Preempted).Available.ToArray());
    }

    [Theory]
    [InlineData("""[1, 2]""", "expected a JSON object")]
    [InlineData("""{"data": [1]}""", "'metadata'")]
    [InlineData("""{"metadata": {}, "data": [1]}""", "'metadata.gap_seconds' (the tick length) is missing")]
    [InlineData("""{"metadata": {"gap_seconds": 0}, "data": [1]}""", "'metadata.gap_seconds' is 0")]
    [InlineData("""{"metadata": {"gap_seconds": "195"}, "data": [1]}""", "'metadata.gap_seconds' is the string \"195\"")]
    [InlineData("""{"metadata": {"gap_seconds": 195}}""", "'data' is missing")]
    [InlineData("""{"metadata": {"gap_seconds": 195}, "data": []}""", "'data' is empty")]
    [InlineData("""{"metadata": {"gap_seconds": 195}, "data": [1, 1, -1]}""", "'data[2]' is -1")]
    [InlineData("""{"metadata": {"gap_seconds": 195}, "data": [1, 0.5]}""", "'data[1]' is 0.5")]
    [InlineData("""{"metadata": {"gap_seconds": 195}, "data": [1, null]}""", "'data[1]' is null")]
    [InlineData("""{"metadata": {"gap_seconds": 195}, "data": [1""", "not valid JSON")]
    public void A_bad_trace_file_is_answered_with_the_file_and_the_field(string json, string expected)
    {
        var path = Write("bad_v100_1.json", json);

        var e = Assert.Throws<FormatException>(() => SpotTraceFile.Read(path, V100, T0));

        Assert.StartsWith(path + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_price_is_answered_with_the_file_and_the_series()
    {
        var path = Write("prices.json", """{"z1_v100_1": [1.0, "x"]}""");

        var e = Assert.Throws<FormatException>(() => SpotTraceFile.ReadPrices(path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("'z1_v100_1[1]'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prices_are_matched_to_zones_by_key_and_must_align()
    {
        Write("z1_v100_1.json", """{"metadata": {"gap_seconds": 60}, "data": [1, 0, 1]}""");
        Write("z2_v100_1.json", """{"metadata": {"gap_seconds": 60}, "data": [1, 1, 1]}""");
        Write("spot-prices.json", """{"z1_v100_1": [1.0, 1.5, 2.0]}""");

        var traces = SpotTraceFile.ReadDirectory(_dir, V100, T0);

        Assert.Equal([1.0, 1.5, 2.0], traces.Single(t => t.Zone == "z1").SpotPricesPerHourUsd.ToArray());
        Assert.False(traces.Single(t => t.Zone == "z2").HasPrices);

        Write("spot-prices.json", """{"z1_v100_1": [1.0, 1.5]}""");
        var e = Assert.Throws<FormatException>(() => SpotTraceFile.ReadDirectory(_dir, V100, T0));
        Assert.Contains("'z1_v100_1' has 2 prices", e.Message, StringComparison.Ordinal);
        Assert.Contains("3 ticks", e.Message, StringComparison.Ordinal);
    }
}
