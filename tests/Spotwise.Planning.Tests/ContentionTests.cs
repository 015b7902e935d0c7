using Spotwise.Core;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

public class ContentionTests
{
    private const string StandardOnDemand = "on-demand:us-east-1:standard";

    /// <summary>No spot discount: every option is on-demand, in the standard quota class.</summary>
    private static readonly Catalog OnDemandOnly = TinyCatalog(
        Row("c5.large", onDemand: 0.10, spot: 0.10), Row("c5.xlarge", onDemand: 0.08, spot: 0.08, vcpus: 4));

    private static HashSet<string> Contended(CapacityLimits limits, params Job[] jobs)
    {
        var problem = Problem(jobs, OnDemandOnly, limits);
        return Contention.ContendedPools(new GridModel(problem, OptionBuilder.Build(problem)));
    }

    [Fact]
    public void A_pool_whose_jobs_windows_only_touch_is_not_contended()
    {
        var contended = Contended(new CapacityLimits { DefaultOnDemandVcpuQuota = 2 },
            Job("first", hours: 1, deadlineHours: 1), Job("second", hours: 1, deadlineHours: 2, earliestHours: 1));

        Assert.Empty(contended);
    }

    [Fact]
    public void A_pool_whose_jobs_windows_overlap_beyond_its_capacity_is_contended()
    {
        var contended = Contended(new CapacityLimits { DefaultOnDemandVcpuQuota = 2 },
            Job("first", hours: 1, deadlineHours: 1), Job("second", hours: 1, deadlineHours: 2));

        Assert.Equal([StandardOnDemand], contended);
    }

    [Fact]
    public void A_pool_filled_exactly_to_its_capacity_is_not_contended()
    {
        var contended = Contended(new CapacityLimits { DefaultOnDemandVcpuQuota = 4 },
            Job("first", hours: 1, deadlineHours: 1), Job("second", hours: 1, deadlineHours: 1));

        Assert.Empty(contended);
    }

    [Fact]
    public void A_job_counts_its_largest_demand_on_a_pool()
    {
        // "wide" may run on c5.xlarge (4 vCPUs): with "narrow" beside it, 6 vCPUs could run on a quota of 4.
        var contended = Contended(new CapacityLimits { DefaultOnDemandVcpuQuota = 4 },
            Job("wide", hours: 1, deadlineHours: 1, types: ["c5.large", "c5.xlarge"]), Job("narrow", hours: 1, deadlineHours: 1));

        Assert.Equal([StandardOnDemand], contended);
    }

    [Fact]
    public void An_unlimited_pool_is_never_contended()
    {
        var jobs = Enumerable.Range(0, 20).Select(i => Job($"j{i}", hours: 1, deadlineHours: 1)).ToArray();

        Assert.Empty(Contended(CapacityLimits.None, jobs));
    }

    [Fact]
    public void Any_placement_that_overfills_a_pool_is_in_a_contended_pool()
    {
        var random = new Random(77);
        var overfilled = 0;
        for (var instance = 0; instance < 300; instance++)
        {
            var problem = RandomQueues.Tiny(random);
            var model = new GridModel(problem, OptionBuilder.Build(problem));
            var contended = Contention.ContendedPools(model);
            for (var sample = 0; sample < 50; sample++)
            {
                // Every job on a random option at a random start of its window, capacity ignored.
                var use = new Dictionary<Pool, int[]>();
                foreach (var options in model.GridOptions.Where(o => o.Length > 0))
                {
                    var g = options[random.Next(options.Length)];
                    var start = random.Next(g.EarliestStep, g.LatestStep + 1);
                    if (!use.TryGetValue(g.Option.Pool.Pool, out var steps))
                    {
                        use[g.Option.Pool.Pool] = steps = new int[model.Horizon];
                    }
                    for (var s = start; s < start + g.DurationSteps; s++)
                    {
                        steps[s] += g.Option.Pool.Demand;
                    }
                }
                foreach (var (pool, steps) in use.Where(p => !p.Key.IsUnlimited && p.Value.Max() > p.Key.Capacity))
                {
                    overfilled++;
                    Assert.True(contended.Contains(pool.Id), $"instance {instance}: {pool.Id} can hold {steps.Max()} > {pool.Capacity} but is not contended");
                }
            }
        }
        Assert.True(overfilled > 100, $"only {overfilled} overfilled samples: the property is barely exercised");
    }
}
