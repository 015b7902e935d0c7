using Spotwise.Core;
using Spotwise.Runtime.History;

namespace Spotwise.Runtime.Tests.History;

/// <summary>The learned rate per spot pool: the band as a gamma prior, a minimum exposure, a look-back window.</summary>
public sealed class PoolInterruptionHistoryTests : StoreTestBase
{
    private static CancellationToken Ct => CancellationToken.None;

    private static readonly CatalogEntry P3 = Catalog.Find("p3.2xlarge")!;

    private static PoolExposure Exposure(double hours, int interruptions, string zone = "us-east-1a", string provider = "aws") =>
        new(provider, zone, "p3.2xlarge", hours, interruptions, Math.Max(1, interruptions));

    [Fact]
    public void Below_the_minimum_exposure_the_band_rate_stays_in_force()
    {
        var history = PoolInterruptionHistory.From([Exposure(9.9, 5)], PoolHistoryOptions.Default);

        var used = history.RateFor("aws", P3, "us-east-1a");

        Assert.False(used.Learned);
        Assert.Equal(P3.SpotInterruptionRatePerHour, used.RatePerHour);
        Assert.Equal((9.9, 5), (used.ExposureHours, used.Interruptions));
        Assert.StartsWith($"band {P3.InterruptionBand}: ", used.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void From_the_minimum_the_rate_is_the_interruptions_blended_with_the_band_as_prior_hours()
    {
        var band = P3.SpotInterruptionRatePerHour;
        var history = PoolInterruptionHistory.From([Exposure(42, 13)], PoolHistoryOptions.Default with { PriorHours = 100, MinimumHours = 10 });

        var used = history.RateFor("aws", P3, "us-east-1a");

        Assert.True(used.Learned);
        Assert.Equal((13 + (100 * band)) / (42 + 100), used.RatePerHour, 12);
        Assert.StartsWith("learned 0.0918/h from 42 h on us-east-1a/p3.2xlarge (13 interruptions", used.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_pool_that_never_interrupts_drifts_below_its_band_and_no_prior_means_the_observed_rate()
    {
        var band = P3.SpotInterruptionRatePerHour;
        var calm = PoolInterruptionHistory.From([Exposure(900, 0)], PoolHistoryOptions.Default).RateFor("aws", P3, "us-east-1a");
        var raw = PoolInterruptionHistory.From([Exposure(20, 5)], PoolHistoryOptions.Default with { PriorHours = 0 }).RateFor("aws", P3, "us-east-1a");

        Assert.Equal(band / 10, calm.RatePerHour, 12);
        Assert.Equal(0.25, raw.RatePerHour, 12);
    }

    [Fact]
    public void Attempts_of_an_unknown_provider_count_as_the_catalogs_and_other_providers_and_zones_do_not()
    {
        var history = PoolInterruptionHistory.From(
            [Exposure(10, 2, provider: ""), Exposure(10, 2), Exposure(50, 50, provider: "gcp"), Exposure(50, 50, zone: "us-east-1b")],
            PoolHistoryOptions.Default with { PriorHours = 0 });

        Assert.Equal((20, 4, 0.2), (history.RateFor("aws", P3, "us-east-1a").ExposureHours, history.RateFor("aws", P3, "us-east-1a").Interruptions,
            history.RateFor("aws", P3, "us-east-1a").RatePerHour));
    }

    [Fact]
    public void The_catalog_carries_the_learned_rates_on_their_pools_offers_only()
    {
        var zoned = new Catalog("aws", "us-east-1", [P3 with { SpotZones = [new ZoneSpotPrice("us-east-1a", 0.9), new ZoneSpotPrice("us-east-1b", 1.0)] }]);
        var history = PoolInterruptionHistory.From([Exposure(20, 5), Exposure(5, 5, zone: "us-east-1b")], PoolHistoryOptions.Default with { PriorHours = 0 });

        var offers = history.Apply(zoned).SpotOffersFor(zoned.Entries[0]).ToDictionary(o => o.Zone, o => o.InterruptionRatePerHour);

        Assert.Equal(0.25, offers["us-east-1a"], 12);
        Assert.Equal(P3.SpotInterruptionRatePerHour, offers["us-east-1b"]);
        Assert.Same(zoned, PoolInterruptionHistory.Empty.Apply(zoned));
    }

    [Fact]
    public void Settings_out_of_range_are_named_with_their_values()
    {
        var problems = (PoolHistoryOptions.Default with { PriorHours = -1, MinimumHours = 0, LookBack = TimeSpan.Zero }).Problems().ToList();

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("PriorHours is -1", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("MinimumHours is 0", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("LookBack is 00:00:00", StringComparison.Ordinal));
        Assert.Empty(PoolHistoryOptions.Default.Problems());
    }

    [Fact]
    public async Task The_tracker_reads_only_attempts_that_ended_within_the_look_back_and_again_only_after_refresh_every()
    {
        var tracker = new PoolInterruptionTracker(PoolHistoryOptions.Default with { PriorHours = 0, LookBack = TimeSpan.FromDays(30) });
        await InterruptedAsync("old", Now.AddDays(-31), hours: 20);
        await InterruptedAsync("recent", Now.AddDays(-2), hours: 10);

        var read = await tracker.RefreshAsync(Store, Now, Ct);
        await InterruptedAsync("later", Now.AddHours(-1), hours: 10);

        Assert.Equal((10, 1), (read.RateFor("aws", P3, "us-east-1a").ExposureHours, read.RateFor("aws", P3, "us-east-1a").Interruptions));
        Assert.Same(read, await tracker.RefreshAsync(Store, Now.AddMinutes(9), Ct));
        Assert.Equal(20, (await tracker.RefreshAsync(Store, Now.AddMinutes(10), Ct)).RateFor("aws", P3, "us-east-1a").ExposureHours, 9);
    }

    /// <summary>A job that ran <paramref name="hours"/> on spot in us-east-1a and was interrupted at <paramref name="endedAt"/>, through the store's updates.</summary>
    private async Task InterruptedAsync(string id, DateTimeOffset endedAt, double hours)
    {
        await Store.SubmitAsync([new Submission(P3Job(id, 1, 48), Team, $"{{\"jobId\":\"{id}\"}}")], Now, Ct);
        var spot = new Placement(Market.Spot, "p3.2xlarge", "us-east-1a", Now, 0.9, 1, null) { Provider = "aws" };
        var r = (await Get(id))!;
        r = (await Store.TryUpdateAsync(r with { State = JobState.Planned, Placement = spot }, "test", Now, Ct))!;
        r = (await Store.TryUpdateAsync(r with { State = JobState.Launching, Attempt = 1 }, "test", Now, Ct))!;
        r = (await Store.TryUpdateAsync(r with { State = JobState.Running }, "test", endedAt.AddHours(-hours), Ct))!;
        Assert.NotNull(await Store.TryUpdateAsync(r with { State = JobState.Interrupted }, "spot capacity was taken back", endedAt, Ct));
    }
}
