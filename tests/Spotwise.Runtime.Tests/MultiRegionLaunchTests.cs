using Spotwise.Core;
using Spotwise.Runtime.Policy;
using Spotwise.Runtime.Reconciliation;

namespace Spotwise.Runtime.Tests;

/// <summary>The runtime launches a run outside the job's data region for the transfer's time more, and counts it as no progress (issue 12).</summary>
public class MultiRegionLaunchTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static readonly Catalog Catalog = ShippedData.Catalog.WithTransfer(new TransferPrices([("us-west-2", "us-east-1", 0.02)]));

    /// <summary>4 h on g5.4xlarge on-demand in us-east-1, with 900 GB of input (2 h at 1 Gbit/s) in <paramref name="dataRegion"/>.</summary>
    private static JobRecord Planned(string? dataRegion) => new()
    {
        Job = new Job
        {
            Id = "a",
            DurationHours = 4,
            Deadline = Now.AddHours(12),
            Checkpointable = true,
            Resources = ResourceRequest.ForInstanceTypes(["g5.4xlarge"]),
            InputDataSizeGB = 900,
            DataRegion = dataRegion,
        },
        Team = "ml",
        SubmittedAt = Now.AddHours(-1),
        State = JobState.Planned,
        Placement = new Placement(Market.OnDemand, "g5.4xlarge", "us-east-1", Now, 1.624, 1.624 * 6, null),
    };

    [Fact]
    public void A_launch_outside_the_jobs_data_region_asks_for_the_transfer_time_more()
    {
        var launch = Assert.IsType<Launch>(Assert.Single(Reconciler.Decide([Planned("us-west-2")], [], Now, Catalog)));

        Assert.Equal((6.0, 2.0), (launch.Request.WorkHours, launch.Request.TransferHours));
    }

    [Fact]
    public void A_launch_where_the_data_lives_asks_for_the_work_alone()
    {
        var launch = Assert.IsType<Launch>(Assert.Single(Reconciler.Decide([Planned(null)], [], Now, Catalog)));

        Assert.Equal((4.0, 0.0), (launch.Request.WorkHours, launch.Request.TransferHours));
    }

    [Fact]
    public void The_transfer_bandwidth_is_the_planners()
    {
        var launch = Assert.IsType<Launch>(Assert.Single(Reconciler.Decide([Planned("us-west-2")], [], Now, Catalog, transferGbps: 2)));

        Assert.Equal(1.0, launch.Request.TransferHours, 9);
    }

    [Fact]
    public void Hours_spent_moving_the_data_are_not_counted_as_saved_work()
    {
        var job = Planned("us-west-2");
        var request = Assert.IsType<Launch>(Assert.Single(Reconciler.Decide([job], [], Now, Catalog))).Request;
        var running = job with { State = JobState.Running, Attempt = 1, LaunchIntent = request };
        var instance = new InstanceStatus("i-1", request.ClientToken, "ml", "a", 1, Market.OnDemand, "g5.4xlarge", "us-east-1", InstanceState.Running,
            Now, Now, null, null, 1.624, 0, SavedProgressHours: 3, null);

        Assert.Equal(1.0, JobProgress.SavedHours(running, instance), 9);
        Assert.Equal(0, JobProgress.RemainingChangeoverHours(running, instance, Now.AddHours(2.5)));
        Assert.Equal(0.5, JobProgress.RemainingChangeoverHours(running, instance, Now.AddHours(1.5)), 9);
    }
}
