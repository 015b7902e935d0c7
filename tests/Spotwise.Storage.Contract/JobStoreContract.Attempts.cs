using Spotwise.Core;
using Spotwise.Runtime;
using static Spotwise.Storage.Contract.TestJobs;

namespace Spotwise.Storage.Contract;

/// <summary>The attempt log (issue 16): spot exposure per pool, written with the job's own updates, once per attempt.</summary>
public abstract partial class JobStoreContract
{
    private static Placement SpotIn(string zone, string type = "g5.xlarge") =>
        new(Market.Spot, type, zone, T0, 0.3, 1.0, null) { Provider = "aws" };

    /// <summary>A submitted job moved by real updates to running attempt 1 on <paramref name="placement"/> at <paramref name="runningAt"/>.</summary>
    private async Task<JobRecord> RunningAsync(string id, Placement placement, DateTimeOffset runningAt)
    {
        await Store.SubmitAsync([Submit(Simple(id))], T0, Ct);
        var r = (await Store.GetAsync(Key(id), Ct))!;
        r = (await Store.TryUpdateAsync(r with { State = JobState.Planned, Placement = placement }, "planned", T0, Ct))!;
        r = (await Store.TryUpdateAsync(r with { State = JobState.Launching, Attempt = 1 }, "launch", T0, Ct))!;
        return (await Store.TryUpdateAsync(r with { State = JobState.Running, InstanceId = "i-1", StartedAt = runningAt }, "running", runningAt, Ct))!;
    }

    [StoreFact]
    public async Task An_interrupted_spot_attempt_counts_its_running_hours_and_one_interruption_for_its_pool()
    {
        var running = await RunningAsync("j1", SpotIn("us-east-1a"), T0.AddHours(1));
        Assert.Empty(await Store.SpotExposureAsync(T0, Ct));

        Assert.NotNull(await Store.TryUpdateAsync(running with { State = JobState.Interrupted }, "spot capacity was taken back", T0.AddHours(4), Ct));

        var pool = Assert.Single(await Store.SpotExposureAsync(T0, Ct));
        Assert.Equal(("aws", "us-east-1a", "g5.xlarge", 1, 1), (pool.Provider, pool.Zone, pool.InstanceType, pool.Interruptions, pool.Attempts));
        Assert.Equal(3, pool.RunningHours, 9);
    }

    [StoreFact]
    public async Task Succeeded_moved_and_cancelled_spot_attempts_add_exposure_only_each_to_its_own_pool()
    {
        var a = await RunningAsync("ok", SpotIn("us-east-1a"), T0);
        await Store.TryUpdateAsync(a with { State = JobState.Succeeded, FinishedAt = T0.AddHours(2) }, "done", T0.AddHours(2), Ct);
        var b = await RunningAsync("moved", SpotIn("us-east-1a"), T0);
        var onDemand = new Placement(Market.OnDemand, "g5.xlarge", "us-east-1", T0, 1.0, 1.0, null) { Provider = "aws" };
        await Store.TryUpdateAsync(b with { State = JobState.Launching, Attempt = 2, Placement = onDemand }, "safety net", T0.AddHours(1), Ct);
        var c = await RunningAsync("cancelled", SpotIn("us-east-1b"), T0);
        await Store.TryUpdateAsync(c with { State = JobState.Cancelled, FinishedAt = T0.AddHours(5) }, "cancelled", T0.AddHours(5), Ct);

        var pools = await Store.SpotExposureAsync(T0, Ct);

        Assert.Equal(["us-east-1a", "us-east-1b"], pools.Select(p => p.Zone));
        Assert.Equal((3.0, 0, 2), (Math.Round(pools[0].RunningHours, 9), pools[0].Interruptions, pools[0].Attempts));
        Assert.Equal((5.0, 0, 1), (Math.Round(pools[1].RunningHours, 9), pools[1].Interruptions, pools[1].Attempts));
    }

    [StoreFact]
    public async Task A_repeated_end_of_an_attempt_counts_once()
    {
        var running = await RunningAsync("j1", SpotIn("us-east-1a"), T0);
        var interrupted = (await Store.TryUpdateAsync(running with { State = JobState.Interrupted }, "taken back", T0.AddHours(2), Ct))!;
        // The same update again loses on its version; a later write of the same attempt (a note) ends nothing more.
        Assert.Null(await Store.TryUpdateAsync(running with { State = JobState.Interrupted }, "taken back", T0.AddHours(3), Ct));
        await Store.TryUpdateManyAsync([(interrupted with { LastError = "noted" }, "note")], T0.AddHours(4), Ct);

        var pool = Assert.Single(await Store.SpotExposureAsync(T0, Ct));
        Assert.Equal((1, 1), (pool.Interruptions, pool.Attempts));
        Assert.Equal(2, pool.RunningHours, 9);
    }

    [StoreFact]
    public async Task On_demand_attempts_running_attempts_and_attempts_before_the_look_back_are_not_spot_exposure()
    {
        var onDemand = await RunningAsync("od", new Placement(Market.OnDemand, "g5.xlarge", "us-east-1", T0, 1.0, 1.0, null), T0);
        await Store.TryUpdateAsync(onDemand with { State = JobState.Succeeded, FinishedAt = T0.AddHours(2) }, "done", T0.AddHours(2), Ct);
        await RunningAsync("still", SpotIn("us-east-1a"), T0);
        var old = await RunningAsync("old", SpotIn("us-east-1b"), T0);
        await Store.TryUpdateAsync(old with { State = JobState.Interrupted }, "taken back", T0.AddHours(1), Ct);

        Assert.Equal(["us-east-1b"], (await Store.SpotExposureAsync(T0.AddHours(1), Ct)).Select(p => p.Zone));
        Assert.Empty(await Store.SpotExposureAsync(T0.AddHours(1).AddSeconds(1), Ct));
    }
}
