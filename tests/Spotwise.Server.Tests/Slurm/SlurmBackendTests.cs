using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spotwise.Compute.Slurm;
using Spotwise.Runtime;
using Spotwise.Runtime.Reconciliation;

namespace Spotwise.Server.Tests.Slurm;

/// <summary><c>serve --backend slurm</c> as SpotwiseApp composes it: the settings, and a job run on the local cluster (scripts/slurm-up.sh).</summary>
public sealed class SlurmBackendTests
{
    [Fact]
    public async Task A_slurm_conf_that_does_not_exist_fails_the_start_naming_the_setting()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string>
        {
            ["Spotwise:Backend"] = "slurm",
            ["Spotwise:Slurm:Conf"] = "/no/such/slurm.conf",
        });

        var e = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("Spotwise:Slurm:Conf is '/no/such/slurm.conf', which does not exist", e.Message, StringComparison.Ordinal);
    }

    [ServiceFact("SPOTWISE_SLURM_CONF")]
    public async Task A_job_submitted_to_the_service_runs_as_a_slurm_job_and_succeeds()
    {
        var output = Directory.CreateTempSubdirectory("spotwise-slurm-serve-").FullName;
        var prefix = $"s{Guid.NewGuid():N}"[..9] + ":";
        var settings = new Dictionary<string, string>
        {
            ["Spotwise:Backend"] = "slurm",
            ["Spotwise:Slurm:Conf"] = ServiceEnvironment.Require("SPOTWISE_SLURM_CONF"),
            ["Spotwise:Slurm:JobNamePrefix"] = prefix,
            ["Spotwise:Slurm:OutputDirectory"] = output,
        };
        // The runtime's clock starts at the real now: Slurm's times are real.
        await using var factory = new SpotwiseServerFactory(settings, DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()));
        try
        {
            using var client = factory.ClientFor("k1");
            var body = """{"jobId":"hello","deadline":"+3h","estimatedDurationHours":0.05,"requiredResourceType":"cpu_small","command":"echo hello from $SPOTWISE_JOB_ID"}""";
            Assert.Equal(System.Net.HttpStatusCode.Created, (await client.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode);

            var store = factory.Services.GetRequiredService<IJobStore>();
            var key = new JobKey("team-a", "hello");
            var end = TimeProvider.System.GetUtcNow() + TimeSpan.FromMinutes(2);
            while ((await store.GetAsync(key, default))!.State is not (JobState.Succeeded or JobState.Failed))
            {
                Assert.True(TimeProvider.System.GetUtcNow() < end, $"the job did not finish: {(await store.GetAsync(key, default))!.State}");
                await factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);
                await factory.Services.GetRequiredService<ReconcileLoop>().TickAsync(default);
                await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System);
            }

            var job = (await store.GetAsync(key, default))!;
            Assert.True(job.State == JobState.Succeeded, job.LastError);
            Assert.StartsWith(SlurmCompute.IdPrefix, job.InstanceId, StringComparison.Ordinal);
            var log = Assert.Single(Directory.GetFiles(output, "*.out"));
            Assert.Contains("hello from hello", await File.ReadAllTextAsync(log), StringComparison.Ordinal);
        }
        finally
        {
            using var cleanup = new SlurmCompute(new SlurmComputeOptions { Conf = settings["Spotwise:Slurm:Conf"], JobNamePrefix = prefix }, TimeProvider.System);
            await cleanup.CancelAllAsync(default);
            Directory.Delete(output, recursive: true);
        }
    }
}
