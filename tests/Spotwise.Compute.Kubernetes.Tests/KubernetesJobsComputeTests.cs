using System.Text.Json.Nodes;
using k8s.Models;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Compute.Kubernetes.Tests;

/// <summary>
/// The Kubernetes backend through the real KubernetesClient against the loopback API server (<see cref="FakeKubeApiServer"/>):
/// the contract, plus what only Kubernetes does (the Job's shape, 409 on create, the watch's 410 and dropped streams,
/// disruption by podFailurePolicy, Kueue).
/// </summary>
public sealed class KubernetesJobsComputeTests : ComputeBackendContract, IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private KubeCluster _cluster = null!;

    protected override ICompute Backend => _cluster.Backend;

    protected override LaunchRequest OnDemandRequest(string jobId, int attempt = 1) =>
        Request(jobId, attempt, Market.OnDemand, "m5.large", "us-east-1a", workHours: 1.0 / 60, command: "echo hello");

    /// <summary>The pod's boot (30 s) and its command (1 min) with room to spare.</summary>
    protected override TimeSpan TimeToFinish => TimeSpan.FromMinutes(5);

    protected override Task LetTimePassAsync(TimeSpan span) => _cluster.PassAsync(span);

    public async Task InitializeAsync() => _cluster = await KubeCluster.StartAsync(Start);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private FakeKubeApiServer Server => _cluster.Server;

    private static LaunchRequest SpotRequest(string jobId, int attempt = 1, string team = Team) =>
        Request(jobId, attempt, Market.Spot, "p3.2xlarge", "us-east-1b", workHours: 2, command: "python train.py --epochs 3", team: team);

    [Fact]
    public async Task A_launch_is_one_job_labelled_with_its_attempt_and_placed_by_node_selector_on_its_market_type_and_zone()
    {
        var launched = await Backend.LaunchAsync(SpotRequest("train") with { Image = "python:3.12-slim" }, Ct);

        var job = Server.Job(launched.InstanceId);
        var labels = job["metadata"]!["labels"]!.AsObject();
        Assert.Equal(("spotwise", "train", "1", "ml"), (Text(labels["app.kubernetes.io/managed-by"]), Text(labels["spotwise.io/job"]),
            Text(labels["spotwise.io/attempt"]), Text(labels["spotwise.io/team"])));
        var pod = job["spec"]!["template"]!["spec"]!;
        Assert.Equal(
            [("karpenter.sh/capacity-type", "spot"), ("node.kubernetes.io/instance-type", "p3.2xlarge"), ("topology.kubernetes.io/zone", "us-east-1b")],
            pod["nodeSelector"]!.AsObject().Select(p => (p.Key, Text(p.Value))).Order());
        var container = pod["containers"]!.AsArray().Single()!;
        Assert.Equal("python:3.12-slim", Text(container["image"]));
        Assert.Equal(["sh", "-c", "python train.py --epochs 3"], container["command"]!.AsArray().Select(Text));
        Assert.Equal("Never", Text(pod["restartPolicy"]));
        Assert.Equal((Market.Spot, InstanceState.Pending, "us-east-1b", "p3.2xlarge"), (launched.Market, launched.State, launched.Zone, launched.InstanceType));
    }

    [Fact]
    public async Task The_job_ends_on_a_disruption_without_retrying_runs_within_a_deadline_from_the_plan_and_cleans_itself_up()
    {
        var launched = await Backend.LaunchAsync(SpotRequest("train"), Ct);

        var spec = Server.Job(launched.InstanceId)["spec"]!;
        Assert.Equal(0, spec["backoffLimit"]!.GetValue<int>());
        var rule = spec["podFailurePolicy"]!["rules"]!.AsArray().Single()!;
        Assert.Equal(("FailJob", "DisruptionTarget", "True"), (Text(rule["action"]), Text(rule["onPodConditions"]![0]!["type"]), Text(rule["onPodConditions"]![0]!["status"])));
        // Twice the work (2 h) and the launch allowance (3 min).
        Assert.Equal(4 * 3600 + 180, spec["activeDeadlineSeconds"]!.GetValue<long>());
        Assert.Equal(3600, spec["ttlSecondsAfterFinished"]!.GetValue<int>());
        Assert.Null(spec["suspend"]);
    }

    [Fact]
    public async Task A_job_without_an_image_or_a_command_runs_the_default_image_and_a_regional_placement_selects_no_zone()
    {
        var launched = await Backend.LaunchAsync(Request("plain", 1, Market.OnDemand, "m5.large", "us-east-1", workHours: 1), Ct);

        var pod = Server.Job(launched.InstanceId)["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]![0]!;
        Assert.Equal(("busybox:1.36", null), (Text(container["image"]), container["command"]));
        Assert.Equal(["karpenter.sh/capacity-type", "node.kubernetes.io/instance-type"], pod["nodeSelector"]!.AsObject().Select(p => p.Key).Order());
        Assert.Equal("on-demand", Text(pod["nodeSelector"]!["karpenter.sh/capacity-type"]));
    }

    [Fact]
    public async Task Ids_that_are_no_kubernetes_name_are_sanitised_into_a_valid_stable_name_and_label_and_kept_exactly_in_annotations()
    {
        var id = "Train:Run_" + new string('x', 100);
        var request = SpotRequest(id, team: "ML.Team");

        var launched = await Backend.LaunchAsync(request, Ct);
        var again = await Backend.LaunchAsync(request, Ct);

        Assert.Equal(launched.InstanceId, again.InstanceId);
        Assert.True(KubeNames.IsDnsLabel(launched.InstanceId), launched.InstanceId);
        var metadata = Server.Job(launched.InstanceId)["metadata"]!;
        Assert.True(KubeNames.IsLabelValue(Text(metadata["labels"]!["spotwise.io/job"])!));
        Assert.Equal((id, "ML.Team"), (Text(metadata["annotations"]!["spotwise.io/job-id"]), Text(metadata["annotations"]!["spotwise.io/team"])));
        Assert.Equal((id, "ML.Team"), (launched.JobId, launched.Team));
    }

    [Fact]
    public async Task A_409_for_a_job_of_this_attempt_is_the_same_launch_even_from_a_backend_that_has_not_seen_it()
    {
        var request = SpotRequest("train");
        var first = await Backend.LaunchAsync(request, Ct);
        await using var restarted = new KubernetesJobsCompute(KubernetesComputeRegistration.CreateClient(_cluster.Options("spotwise")),
            _cluster.Options("spotwise"), _cluster.Clock);

        // A service restarted between its launch and its record: the new backend's watch may not have listed the Job yet.
        var again = await restarted.LaunchAsync(request, Ct);

        Assert.Equal(first.InstanceId, again.InstanceId);
        Assert.Single(Server.JobNames());
    }

    [Fact]
    public async Task A_409_for_a_job_that_is_not_ours_is_an_error_naming_it()
    {
        var request = SpotRequest("train");
        var name = KubeNames.JobName("spotwise", request.ClientToken, request.Team, request.JobId, request.Attempt);
        Server.Put(new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "Job",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "someone-else" } },
            ["spec"] = new JsonObject(),
        });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Backend.LaunchAsync(request, Ct));

        Assert.Contains($"default/{name} already exists", error.Message, StringComparison.Ordinal);
        Assert.Contains("managed-by=someone-else", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Terminate_deletes_the_job_with_its_pods_in_the_background()
    {
        var launched = await Backend.LaunchAsync(SpotRequest("train"), Ct);

        await Backend.TerminateAsync(launched.InstanceId, Ct);
        await _cluster.CaughtUpAsync();

        Assert.Empty(Server.JobNames());
        Assert.Equal(["Background"], Server.DeletePropagations);
        Assert.Equal(InstanceState.Terminated, (await _cluster.StatusAsync(launched.InstanceId)).State);
    }

    [Fact]
    public async Task A_pod_on_a_spot_node_taken_away_is_an_interruption_not_a_failure()
    {
        var launched = await Backend.LaunchAsync(SpotRequest("train"), Ct);
        await _cluster.PassAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(InstanceState.Running, (await _cluster.StatusAsync(launched.InstanceId)).State);

        Server.TakeSpotNodeAway(launched.InstanceId);
        await _cluster.CaughtUpAsync();

        var status = await _cluster.StatusAsync(launched.InstanceId);
        Assert.Equal(InstanceState.Interrupted, status.State);
        Assert.Contains("DisruptionTarget", status.Error, StringComparison.Ordinal);
        Assert.NotNull(status.EndedAt);
    }

    [Fact]
    public async Task A_pod_that_fails_fails_the_attempt_with_the_jobs_reason()
    {
        var launched = await Backend.LaunchAsync(SpotRequest("train"), Ct);

        Server.FailPod(launched.InstanceId);
        await _cluster.CaughtUpAsync();

        var status = await _cluster.StatusAsync(launched.InstanceId);
        Assert.Equal(InstanceState.Failed, status.State);
        Assert.Equal("BackoffLimitExceeded: Job has reached the specified backoff limit", status.Error);
    }

    [Fact]
    public async Task The_watch_lists_again_after_a_410_gone_and_misses_nothing()
    {
        var launched = await Backend.LaunchAsync(SpotRequest("train"), Ct);
        await _cluster.CaughtUpAsync();
        Assert.Equal(1, _cluster.Backend.Lists);

        Server.Compact();
        await _cluster.UntilAsync(() => _cluster.Backend.Lists == 2);
        Server.FailPod(launched.InstanceId);
        await _cluster.CaughtUpAsync();

        Assert.Equal(InstanceState.Failed, (await _cluster.StatusAsync(launched.InstanceId)).State);
        Assert.All(Server.Reads.Where(r => r.Contains("watch=true", StringComparison.Ordinal)),
            r => Assert.Contains("allowWatchBookmarks=true", r, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_dropped_watch_is_listed_and_watched_again_after_a_wait_on_the_services_clock()
    {
        var launched = await Backend.LaunchAsync(SpotRequest("train"), Ct);
        await _cluster.CaughtUpAsync();
        _cluster.Clock.ForgetTimers();

        Server.DropWatches();
        Server.FailPod(launched.InstanceId); // said while nobody watched: only a new list finds it
        var wait = await _cluster.Clock.NextTimerAsync();
        Assert.Equal(1, _cluster.Backend.Lists);
        _cluster.Clock.Advance(wait);
        await _cluster.CaughtUpAsync();

        Assert.Equal(2, _cluster.Backend.Lists);
        Assert.Equal(InstanceState.Failed, (await _cluster.StatusAsync(launched.InstanceId)).State);
    }

    [Fact]
    public async Task A_bookmark_moves_the_watchs_resource_version_without_changing_any_job()
    {
        var launched = await Backend.LaunchAsync(SpotRequest("train"), Ct);
        await _cluster.CaughtUpAsync();
        var before = await _cluster.StatusAsync(launched.InstanceId);

        Server.Put(new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "Job",
            ["metadata"] = new JsonObject { ["name"] = "elsewhere", ["labels"] = new JsonObject { ["app"] = "other" } },
            ["spec"] = new JsonObject(),
        });
        Server.Bookmark();
        await _cluster.CaughtUpAsync();

        Assert.Equal(before, await _cluster.StatusAsync(launched.InstanceId));
        Assert.Single(await Backend.DescribeAsync(Ct));
    }

    private static string? Text(JsonNode? node) => node?.GetValue<string>();
}

/// <summary>Kueue: Jobs made suspended in a LocalQueue, pending until Kueue admits them, then running, admitted by that queue.</summary>
public sealed class KueueTests : IAsyncLifetime
{
    private KubeCluster _cluster = null!;

    public async Task InitializeAsync() =>
        _cluster = await KubeCluster.StartAsync(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero), o => new KubernetesComputeOptions
        {
            Host = o.Host,
            Namespace = o.Namespace,
            KueueQueue = "team-ml",
        });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_job_is_made_suspended_in_the_queue_pending_until_kueue_admits_it_and_then_reports_the_admitting_local_queue()
    {
        var request = new LaunchRequest(ClientTokens.For(new JobKey("ml", "train"), 1), "ml", "train", 1, Market.Spot, "p3.2xlarge", "us-east-1a",
            2, false, 0.5, "python train.py");
        var launched = await _cluster.Backend.LaunchAsync(request, CancellationToken.None);
        var job = _cluster.Server.Job(launched.InstanceId);
        Assert.Equal((true, "team-ml"), (job["spec"]!["suspend"]!.GetValue<bool>(), job["metadata"]!["labels"]!["kueue.x-k8s.io/queue-name"]!.GetValue<string>()));

        await _cluster.PassAsync(TimeSpan.FromMinutes(10));
        var waiting = await _cluster.StatusAsync(launched.InstanceId);
        Assert.Equal((InstanceState.Pending, null), (waiting.State, waiting.Admission));

        _cluster.Server.Admit(launched.InstanceId);
        await _cluster.PassAsync(TimeSpan.FromMinutes(1));

        var admitted = await _cluster.StatusAsync(launched.InstanceId);
        Assert.Equal((InstanceState.Running, "admitted by Kueue LocalQueue team-ml"), (admitted.State, admitted.Admission));
        Assert.True(admitted.RunningSince >= waiting.LaunchedAt + TimeSpan.FromMinutes(10));
    }
}
