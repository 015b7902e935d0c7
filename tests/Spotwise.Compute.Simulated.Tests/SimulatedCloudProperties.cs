using CsCheck;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Runtime;
using static Spotwise.Runtime.Tests.SimTestData;

namespace Spotwise.Compute.Simulated.Tests;

public class SimulatedCloudProperties
{
    private static readonly TimeSpan Notice = TimeSpan.FromMinutes(2);

    // A step: let some minutes pass, then launch a spot job (or terminate one of those launched).
    private static readonly Gen<(int[] Available, (int Minutes, bool Launch, int Pick, double Hours)[] Steps)> Scenarios =
        Gen.Select(
            Gen.Int[0, 3].Array[40],
            Gen.Select(Gen.Int[0, 25], Gen.Int[0, 3], Gen.Int[0, 1000], Gen.Double[0.05, 3]).Select((m, l, p, h) => (m, l > 0, p, h)).Array[1, 40]);

    [Fact]
    public async Task No_more_spot_runs_than_the_trace_allows_and_every_interruption_is_at_a_drop_after_its_notice() =>
        await Scenarios.SampleAsync(async scenario =>
        {
            var time = new FakeTimeProvider(T0);
            var trace = Trace(10, scenario.Available);
            var cloud = new SimulatedCloud(new SimulatedCloudOptions { Catalog = TestCatalog, SpotTraces = [trace] }, time);
            var launched = new List<string>();
            var n = 0;
            foreach (var (minutes, launch, pick, hours) in scenario.Steps)
            {
                time.Advance(TimeSpan.FromMinutes(minutes));
                if (launch || launched.Count == 0)
                {
                    n++;
                    var request = new LaunchRequest(ClientTokens.For(new JobKey("t", $"j{n}"), 1), "t", $"j{n}", 1, Market.Spot, V100, Zone, hours, true, 0.25, null);
                    launched.Add((await cloud.LaunchAsync(request, CancellationToken.None)).InstanceId);
                }
                else
                {
                    await cloud.TerminateAsync(launched[pick % launched.Count], CancellationToken.None);
                }

                var now = time.GetUtcNow();
                var statuses = await cloud.DescribeAsync(CancellationToken.None);
                Assert.InRange(statuses.Count(s => !s.IsEnded), 0, trace.AvailableAt(now));
                foreach (var s in statuses.Where(s => s.State == InstanceState.Interrupted && s.Error != SimulatedCloud.NoSpotCapacity))
                {
                    var end = s.EndedAt!.Value;
                    Assert.True(trace.AvailableAt(end) < trace.AvailableAt(end - TimeSpan.FromTicks(1)), $"{s.InstanceId} ended at {end}, not at a drop");
                    Assert.NotNull(s.InterruptionNoticeAt);
                    Assert.InRange(end - s.InterruptionNoticeAt!.Value, TimeSpan.Zero, Notice);
                    Assert.True(s.InterruptionNoticeAt >= s.LaunchedAt);
                }
                Assert.All(statuses, s => Assert.InRange(s.SavedProgressHours, 0, 3));
            }
        }, iter: 300);
}
