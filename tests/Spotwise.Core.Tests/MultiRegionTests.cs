using System.Text;
using Spotwise.Core.Serialization;

namespace Spotwise.Core.Tests;

/// <summary>A catalog over several regions, jobs whose data lives in one of them, and what moving the data costs (issue 12).</summary>
public class MultiRegionTests
{
    private static readonly DateTimeOffset Now = TestData.Now;

    private static readonly InstanceType C5 = new("c5.large", 2, 4, 0, null);

    private static readonly InstanceType G5 = new("g5.xlarge", 4, 16, 1, "A10G");

    private static readonly Catalog East = new("aws", "us-east-1",
    [
        new CatalogEntry(C5, 1.00, 0.60, 0) { SpotZones = [new ZoneSpotPrice("us-east-1a", 0.60)] },
        new CatalogEntry(G5, 2.00, 1.00, 0),
    ]);

    private static readonly Catalog West = new("aws", "us-west-2",
    [
        new CatalogEntry(C5, 1.10, 0.30, 0) { SpotZones = [new ZoneSpotPrice("us-west-2a", 0.30), new ZoneSpotPrice("us-west-2b", 0.35)] },
    ]);

    private static readonly TransferPrices EastWest = new([("us-east-1", "us-west-2", 0.02), ("us-west-2", "us-east-1", 0.02)]);

    private static Catalog Both => Catalog.Combine([East, West], EastWest);

    private static Job C5Job(string id, double hours, double? gb = null, string? dataRegion = null, DateTimeOffset? deadline = null) => new()
    {
        Id = id,
        DurationHours = hours,
        Deadline = deadline,
        Resources = ResourceRequest.ForInstanceTypes(["c5.large"]),
        InputDataSizeGB = gb,
        DataRegion = dataRegion,
    };

    private static PlanningProblem Problem(Catalog catalog, params Job[] jobs) => new(Now, jobs, catalog, CapacityLimits.None);

    [Fact]
    public void A_combined_catalog_offers_each_region_at_its_own_prices_and_a_type_only_where_that_region_sells_it()
    {
        var catalog = Both;
        var c5 = catalog.Find("c5.large")!;
        var g5 = catalog.Find("g5.xlarge")!;

        Assert.Equal(["us-east-1", "us-west-2"], catalog.Regions.ToArray());
        Assert.Equal([("us-east-1", 1.00), ("us-west-2", 1.10)], catalog.OnDemandOffersFor(c5).Select(o => (o.Region, o.PricePerHourUsd)));
        Assert.Equal([("us-east-1", "us-east-1a", 0.60), ("us-west-2", "us-west-2a", 0.30), ("us-west-2", "us-west-2b", 0.35)],
            catalog.SpotOffersFor(c5).Select(o => (o.Region, o.Zone, o.PricePerHourUsd)));
        Assert.Equal(["us-east-1"], catalog.OnDemandOffersFor(g5).Select(o => o.Region));
        Assert.Equal(["us-east-1"], catalog.SpotOffersFor(g5).Select(o => o.Zone));
        Assert.Equal("us-west-2", catalog.RegionOfZone("us-west-2b"));
        Assert.Equal("us-west-2", catalog.OfferFor(c5, Market.OnDemand, "us-west-2")!.Region);
    }

    [Fact]
    public void A_single_region_catalog_knows_only_its_own_region_and_offers_as_before()
    {
        var c5 = East.Find("c5.large")!;

        Assert.Equal(["us-east-1"], East.Regions.ToArray());
        Assert.Equal([East.OfferFor(c5, Market.OnDemand)], East.OnDemandOffersFor(c5));
        Assert.Null(East.OfferFor(c5, Market.OnDemand, "us-west-2"));
    }

    [Fact]
    public void Catalogs_of_one_region_twice_or_of_two_providers_do_not_combine()
    {
        Assert.Contains("'us-east-1' is given twice", Assert.Throws<ArgumentException>(() => Catalog.Combine([East, East])).Message, StringComparison.Ordinal);
        var gcp = new Catalog("gcp", "us-central1", []);
        Assert.Contains("'aws' and 'gcp'", Assert.Throws<ArgumentException>(() => Catalog.Combine([East, gcp])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void On_demand_quota_is_per_region_so_a_second_region_has_its_own_pool()
    {
        var c5 = Both.Find("c5.large")!;
        var pools = Both.OnDemandOffersFor(c5).Select(o => CapacityLimits.Default.PoolOf(o).Pool.Id).ToList();

        Assert.Equal(["on-demand:us-east-1:standard", "on-demand:us-west-2:standard"], pools);
    }

    [Fact]
    public void An_option_in_another_region_than_the_jobs_data_costs_the_transfer_and_runs_longer_by_gb_times_8_over_gbps()
    {
        // 900 GB at 1 Gbit/s: 900 × 8 / 1 = 7,200 s = 2 h; at $0.02/GB: $18.
        var job = C5Job("far", 1, gb: 900);

        var options = OptionBuilder.ForJob(Problem(Both, job), job);

        var west = options.Options.Single(o => o.Offer.Market == Market.OnDemand && o.Offer.Region == "us-west-2");
        var east = options.Options.Single(o => o.Offer.Market == Market.OnDemand && o.Offer.Region == "us-east-1");
        Assert.Equal(2.0, west.TransferHours, 9);
        Assert.Equal(3.0, west.RunHours, 9);
        Assert.Equal((1.10 * 3) + 18, west.ExpectedCostUsd, 9);
        Assert.Equal(0, east.TransferHours);
        Assert.Equal(1.00, east.ExpectedCostUsd, 9);
    }

    [Fact]
    public void The_deadline_window_of_a_far_option_is_shorter_by_its_transfer()
    {
        var job = C5Job("due", 1, gb: 900, deadline: Now.AddHours(4));

        var options = OptionBuilder.ForJob(Problem(Both, job), job);

        var west = options.Options.Single(o => o.Offer.Market == Market.OnDemand && o.Offer.Region == "us-west-2");
        Assert.Equal(Now.AddHours(1), west.LatestStart);
    }

    [Fact]
    public void A_job_with_no_data_region_and_no_data_is_planned_as_today()
    {
        var job = TestData.Job("plain", 3, Now.AddHours(12));
        var withTable = TestData.Catalog.WithTransfer(EastWest);

        var before = OptionBuilder.ForJob(Problem(TestData.Catalog, job), job);
        var after = OptionBuilder.ForJob(Problem(withTable, job), job);

        Assert.Equal(before.Options.Select(o => (o.Offer, o.ExpectedCostUsd, o.LatestStart, o.RunHours)),
            after.Options.Select(o => (o.Offer, o.ExpectedCostUsd, o.LatestStart, o.RunHours)));
        Assert.All(after.Options, o => Assert.Equal(0, o.TransferHours));
    }

    [Fact]
    public void A_region_the_table_has_no_price_to_is_not_offered_and_the_reason_says_so_when_nothing_remains()
    {
        var noTable = Catalog.Combine([East, West]);
        var dataInWest = C5Job("w", 1, gb: 10, dataRegion: "us-west-2");
        var dataInEast = C5Job("e", 1, gb: 10);

        var west = OptionBuilder.ForJob(Problem(noTable, dataInWest), dataInWest);
        var east = OptionBuilder.ForJob(Problem(noTable, dataInEast), dataInEast);
        var onlyHome = OptionBuilder.ForJob(Problem(East, dataInWest), dataInWest);

        Assert.All(west.Options, o => Assert.Equal("us-west-2", o.Offer.Region));
        Assert.All(east.Options, o => Assert.Equal("us-east-1", o.Offer.Region));
        Assert.False(onlyHome.IsPlannable);
        Assert.Contains("no price from dataRegion 'us-west-2' to 'us-east-1'", onlyHome.WhyNone, StringComparison.Ordinal);
    }

    [Fact]
    public void The_validator_rejects_a_run_that_omits_the_transfer_time()
    {
        var job = C5Job("far", 1, gb: 900, dataRegion: "us-west-2");
        var problem = Problem(Both, job);
        var options = OptionBuilder.Build(problem);
        var east = options[0].Options.First(o => o.Offer.Region == "us-east-1");
        var plan = PlanBuilder.Build("test", problem, options, new Dictionary<string, (JobOption, DateTimeOffset)> { ["far"] = (east, Now) },
            new Dictionary<string, string>(), PlanStatus.Feasible, 0);
        var assignment = plan.Schedule[0];
        var shortened = plan with { Schedule = [assignment with { End = assignment.Start.AddHours(1) }] };

        Assert.Empty(PlanValidator.Validate(plan, problem));
        Assert.Equal(Now.AddHours(3), assignment.End);
        var violation = Assert.Single(PlanValidator.Validate(shortened, problem));
        Assert.Equal(ViolationKind.WrongDuration, violation.Kind);
        Assert.Contains("needs 3 h, 2 h of it moving its input from us-west-2 to us-east-1", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_validator_rejects_a_region_the_data_cannot_be_moved_to()
    {
        var job = C5Job("w", 1, gb: 10, dataRegion: "us-west-2");
        var problem = Problem(Catalog.Combine([East, West]), job);
        var c5 = problem.Catalog.Find("c5.large")!;
        var offer = problem.Catalog.OfferFor(c5, Market.OnDemand);
        var plan = new Plan("test", Now, PlanStatus.Feasible, [new Assignment("w", offer, Now, Now.AddHours(1), 1.0, null, "x")], [],
            new PlanTotals(1.0, 1.0, 0, 0, 0, 0, 1, 0, 0));

        var violation = Assert.Single(PlanValidator.Validate(plan, problem));

        Assert.Equal(ViolationKind.NoTransferPrice, violation.Kind);
        Assert.Contains("no price from dataRegion 'us-west-2'", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_transfer_table_reads_from_csv_and_refuses_a_pair_listed_twice_naming_the_line()
    {
        var table = TransferCsv.Parse(new StringReader("from_region,to_region,usd_per_gb\nus-east-1,eu-west-1,0.02\n"), "t.csv");

        Assert.Equal(0.02, table.UsdPerGb("us-east-1", "eu-west-1"));
        Assert.Null(table.UsdPerGb("eu-west-1", "us-east-1"));
        Assert.Equal(0, table.UsdPerGb("eu-west-1", "eu-west-1"));
        var twice = Assert.Throws<FormatException>(() =>
            TransferCsv.Parse(new StringReader("from_region,to_region,usd_per_gb\na,b,0.02\na,b,0.03\n"), "t.csv"));
        Assert.Contains("t.csv:3: a -> b is listed twice", twice.Message, StringComparison.Ordinal);
        var negative = Assert.Throws<FormatException>(() => TransferCsv.Parse(new StringReader("from_region,to_region,usd_per_gb\na,b,-1\n"), "t.csv"));
        Assert.Contains("usd_per_gb '-1'", negative.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_shipped_transfer_table_prices_us_regions_at_two_cents_and_ohio_virginia_at_one()
    {
        using var reader = File.OpenText(Path.Combine(Spotwise.Testing.RepoPaths.Root, "data", "transfer", "aws-inter-region.csv"));
        var table = TransferCsv.Parse(reader, "aws-inter-region.csv");

        Assert.Equal(0.02, table.UsdPerGb("us-east-1", "us-west-2"));
        Assert.Equal(0.01, table.UsdPerGb("us-east-1", "us-east-2"));
        Assert.Contains("eu-west-1", table.Regions);
    }

    [Theory]
    [InlineData("\"us-west-2\"", "us-west-2")]
    [InlineData("null", null)]
    public void A_job_names_the_region_its_data_lives_in(string value, string? expected)
    {
        var doc = Read(value);

        Assert.True(doc.Ok, string.Join("; ", doc.Errors));
        Assert.Equal(expected, doc.Jobs[0].Job.DataRegion);
    }

    [Fact]
    public void An_unknown_data_region_is_refused_naming_the_field_and_the_value()
    {
        var doc = Read("\"mars-north-1\"");

        var error = Assert.Single(doc.Errors);
        Assert.Equal("dataRegion", error.Path);
        Assert.Contains("'mars-north-1' is not a region of the catalog or the transfer table (us-east-1, us-west-2)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_data_region_is_written_back_as_read()
    {
        var job = C5Job("w", 1, gb: 10, dataRegion: "us-west-2");

        var json = JobsFileWriter.Write([job]);

        Assert.Contains("\"dataRegion\": \"us-west-2\"", json, StringComparison.Ordinal);
        var read = JobsFile.Read(Encoding.UTF8.GetBytes(json), Now, Both, JobsReadOptions.File);
        Assert.Equal("us-west-2", read.Jobs[0].Job.DataRegion);
    }

    private static JobsDocument Read(string dataRegion) => JobsFile.Read(Encoding.UTF8.GetBytes(
        $$$"""{"jobId": "a", "estimatedDurationHours": 1, "inputDataSizeGB": 5, "dataRegion": {{{dataRegion}}}, "resourceRequirements": {"instanceTypes": ["c5.large"]}}"""),
        Now, Both, JobsReadOptions.File);
}
