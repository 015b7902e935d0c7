using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;
using static Spotwise.Storage.Contract.TestJobs;

namespace Spotwise.Storage.Contract;

/// <summary>
/// What every <see cref="IJobStore"/> does, whatever keeps the data. An implementation's test class inherits this and
/// says how to make a fresh, empty store (SQLite, PostgreSQL, the simulation's in-memory store).
/// </summary>
public abstract partial class JobStoreContract : IAsyncLifetime
{
    private IJobStore? _store;

    protected IJobStore Store => _store ?? throw new InvalidOperationException("the store is made in InitializeAsync");

    protected static CancellationToken Ct => CancellationToken.None;

    /// <summary>A new, empty store, owned by the test (disposed after it when disposable).</summary>
    protected abstract Task<IJobStore> CreateStoreAsync();

    public virtual async Task InitializeAsync() => _store = await CreateStoreAsync();

    public virtual async Task DisposeAsync()
    {
        switch (_store)
        {
            case IAsyncDisposable d: await d.DisposeAsync(); break;
            case IDisposable d: d.Dispose(); break;
        }
    }

    [StoreFact]
    public async Task A_submitted_job_reads_back_equal_in_every_field()
    {
        Job[] jobs = [Rich("rich"), WithInstanceTypes("types"), WithClass("class"), Simple("simple")];
        var results = await Store.SubmitAsync([.. jobs.Select(j => Submit(j))], T0, Ct);

        Assert.All(results, r => Assert.Equal(SubmitOutcome.Created, r.Outcome));
        foreach (var job in jobs)
        {
            var stored = await Store.GetAsync(Key(job.Id), Ct);
            Assert.NotNull(stored);
            Same(job, stored.Job);
            Same(results.Single(r => r.JobId == job.Id).Record!, stored);
        }
    }

    [StoreFact]
    public async Task A_created_job_is_queued_for_its_team_at_the_submission_time_with_a_first_event()
    {
        var at = new DateTimeOffset(2026, 11, 24, 10, 15, 30, TimeSpan.FromHours(1)).AddTicks(4_321);
        var result = Assert.Single(await Store.SubmitAsync([Submit(Simple("j1"), "ml")], at, Ct));

        Assert.Equal(SubmitOutcome.Created, result.Outcome);
        var stored = (await Store.GetAsync(Key("j1", "ml"), Ct))!;
        Assert.Equal((JobState.Queued, "ml", at, 0, 0.0, 0.0), (stored.State, stored.Team, stored.SubmittedAt, stored.Attempt, stored.CostSoFarUsd, stored.DoneHours));
        Assert.Equal(at.Offset, stored.SubmittedAt.Offset);
        Assert.Null(stored.Placement);
        var first = Assert.Single(await Store.EventsAsync(Key("j1", "ml"), Ct));
        Assert.Equal(("ml", "j1", (JobState?)null, JobState.Queued, at), (first.Team, first.JobId, first.From, first.To, first.At));
        Assert.False(string.IsNullOrWhiteSpace(first.Cause));
    }

    [StoreFact]
    public async Task An_unknown_job_is_null_and_has_no_events()
    {
        Assert.Null(await Store.GetAsync(Key("nope"), Ct));
        Assert.Empty(await Store.EventsAsync(Key("nope"), Ct));
    }

    [StoreFact]
    public async Task Ids_with_quotes_and_sql_are_just_text()
    {
        const string id = "it's\"; DROP TABLE jobs; --";
        await Store.SubmitAsync([Submit(Simple(id), "o'brien")], T0, Ct);

        Assert.Equal("o'brien", (await Store.GetAsync(Key(id, "o'brien"), Ct))!.Team);
        Assert.Single(await Store.ListAsync(new JobQuery(Team: "o'brien"), Ct));
    }

    [StoreFact]
    public async Task Listing_filters_by_team_and_state_in_submission_order()
    {
        await Store.SubmitAsync([Submit(Simple("a1"), "a"), Submit(Simple("b1"), "b"), Submit(Simple("a2"), "a")], T0, Ct);
        await Store.SubmitAsync([Submit(Simple("a3"), "a")], T0.AddMinutes(1), Ct);
        await MoveAsync(Key("a2", "a"), JobState.Planned);

        Assert.Equal(["a1", "b1", "a2", "a3"], Ids(await Store.ListAsync(new JobQuery(), Ct)));
        Assert.Equal(["a1", "a2", "a3"], Ids(await Store.ListAsync(new JobQuery(Team: "a"), Ct)));
        Assert.Equal(["a1", "b1", "a3"], Ids(await Store.ListAsync(new JobQuery(States: [JobState.Queued]), Ct)));
        Assert.Equal(["a2"], Ids(await Store.ListAsync(new JobQuery(Team: "a", States: [JobState.Planned, JobState.Running]), Ct)));
        Assert.Equal(["a1", "b1"], Ids(await Store.ListAsync(new JobQuery(Limit: 2), Ct)));
        Assert.Empty(await Store.ListAsync(new JobQuery(Team: "c"), Ct));
        Assert.Empty(await Store.ListAsync(new JobQuery(States: []), Ct));
    }

    [StoreFact]
    public async Task Listing_finished_since_a_moment_keeps_the_jobs_not_finished_and_those_finished_from_then_on()
    {
        await Store.SubmitAsync([Submit(Simple("old"), "a"), Submit(Simple("edge"), "a"), Submit(Simple("new"), "b"), Submit(Simple("open"), "a"),
            Submit(Simple("queued"), "a")], T0, Ct);
        var since = T0.AddHours(2);
        // Finish times in other offsets than the bound's: the store compares instants, not texts.
        await FinishAsync(Key("old", "a"), JobState.Failed, since.AddSeconds(-1).ToOffset(TimeSpan.FromHours(5)));
        await FinishAsync(Key("edge", "a"), JobState.Cancelled, since.ToOffset(TimeSpan.FromHours(-7)));
        await FinishAsync(Key("new", "b"), JobState.Failed, since.AddHours(1));
        await MoveAsync(Key("open", "a"), JobState.Planned);

        Assert.Equal(["edge", "new", "open", "queued"], Ids(await Store.ListAsync(new JobQuery { FinishedSince = since }, Ct)));
        Assert.Equal(["edge", "new"], Ids(await Store.ListAsync(new JobQuery(States: [JobState.Failed, JobState.Cancelled]) { FinishedSince = since }, Ct)));
        Assert.Equal(["edge", "open", "queued"], Ids(await Store.ListAsync(new JobQuery(Team: "a") { FinishedSince = since.ToOffset(TimeSpan.FromHours(9)) }, Ct)));
        Assert.Equal(["old", "edge", "new", "open", "queued"], Ids(await Store.ListAsync(new JobQuery { FinishedSince = T0 }, Ct)));
        Assert.Equal(["open", "queued"], Ids(await Store.ListAsync(new JobQuery { FinishedSince = since.AddDays(1) }, Ct)));
    }

    /// <summary>Ends a queued job (failed or cancelled) at <paramref name="at"/>, its finish time.</summary>
    private async Task FinishAsync(JobKey key, JobState state, DateTimeOffset at)
    {
        var read = (await Store.GetAsync(key, Ct))!;
        Assert.NotNull(await Store.TryUpdateAsync(read with { State = state, FinishedAt = at }, "finished", at, Ct));
    }

    [StoreFact]
    public async Task An_update_at_the_current_version_is_stored_whole_and_bumps_the_version()
    {
        await Store.SubmitAsync([Submit(Rich("j1"))], T0, Ct);
        var before = (await Store.GetAsync(Key("j1"), Ct))!;
        var placement = new Placement(Market.Spot, "g5.xlarge", "us-east-1b", T0.AddHours(1).AddTicks(3), 0.3071, 1.234567891,
            new DateTimeOffset(2026, 11, 25, 1, 2, 3, TimeSpan.FromHours(9)).AddTicks(11))
        {
            Provider = "aws",
        };
        var planned = before with { State = JobState.Planned, Placement = placement };

        var saved = await Store.TryUpdateAsync(planned, "planned by greedy", T0.AddMinutes(1), Ct);

        Assert.NotNull(saved);
        Assert.Equal(before.Version + 1, saved.Version);
        Same(planned with { Version = before.Version + 1 }, saved);
        Same(saved, (await Store.GetAsync(Key("j1"), Ct))!);

        var running = saved with
        {
            State = JobState.Launching,
            Attempt = 1,
            InstanceId = "i-0abc",
            StartedAt = T0.AddHours(1).AddTicks(99),
            CostSoFarUsd = 0.1 + 0.2,
            DoneHours = 1.0 / 7,
            LastError = "previous attempt: exit 137",
            // The launch intent and the cost mark are stored exactly: a retry asks the backend for this very request.
            LaunchIntent = new LaunchRequest("ml/j1#1", "ml", "j1", 1, Market.Spot, "g5.xlarge", "us-east-1b", 1.0 / 3, true, 0.1 + 0.2, "run \"x\"")
            {
                Image = "python:3.12-slim",
            },
            CostAccruedAt = new DateTimeOffset(2026, 11, 25, 1, 2, 3, TimeSpan.FromHours(9)).AddTicks(7),
        };
        var again = await Store.TryUpdateAsync(running, "launched", T0.AddHours(1), Ct);
        Same(running with { Version = saved.Version + 1 }, (await Store.GetAsync(Key("j1"), Ct))!);
        Assert.Equal(saved.Version + 1, again!.Version);

        var cleared = again with { State = JobState.Failed, Placement = null, InstanceId = null, FinishedAt = T0.AddHours(2), LaunchIntent = null, CostAccruedAt = null };
        await Store.TryUpdateAsync(cleared, "gave up", T0.AddHours(2), Ct);
        Same(cleared with { Version = again.Version + 1 }, (await Store.GetAsync(Key("j1"), Ct))!);
    }

    [StoreFact]
    public async Task An_update_at_a_stale_version_writes_nothing_and_returns_null()
    {
        await Store.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        var read = (await Store.GetAsync(Key("j1"), Ct))!;
        var first = await Store.TryUpdateAsync(read with { State = JobState.Planned }, "planner", T0, Ct);

        var second = await Store.TryUpdateAsync(read with { State = JobState.Cancelled }, "user", T0, Ct);

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.Equal(JobState.Planned, (await Store.GetAsync(Key("j1"), Ct))!.State);
        Assert.Equal(2, (await Store.EventsAsync(Key("j1"), Ct)).Count);
    }

    [StoreFact]
    public async Task A_batch_of_updates_applies_each_in_order_and_skips_a_stale_one()
    {
        await Store.SubmitAsync([Submit(Simple("j1")), Submit(Simple("j2")), Submit(Simple("j3"))], T0, Ct);
        var j1 = (await Store.GetAsync(Key("j1"), Ct))!;
        var j2 = (await Store.GetAsync(Key("j2"), Ct))!;
        var j3 = (await Store.GetAsync(Key("j3"), Ct))!;
        await Store.TryUpdateAsync(j2 with { State = JobState.Cancelled }, "user", T0, Ct);

        var results = await Store.TryUpdateManyAsync(
            [(j1 with { State = JobState.Planned }, "planned"), (j2 with { State = JobState.Planned }, "planned"), (j3 with { LastError = "full" }, "not planned")],
            T0.AddMinutes(1), Ct);

        Assert.Equal([true, false, true], results.Select(r => r is not null));
        Assert.Equal(JobState.Planned, (await Store.GetAsync(Key("j1"), Ct))!.State);
        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(Key("j2"), Ct))!.State);
        Assert.Equal("full", (await Store.GetAsync(Key("j3"), Ct))!.LastError);
        Assert.Equal("planned", (await Store.EventsAsync(Key("j1"), Ct))[^1].Cause);
    }

    [StoreFact]
    public async Task An_update_the_state_machine_forbids_throws_naming_both_states_and_writes_nothing()
    {
        await Store.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        var read = (await Store.GetAsync(Key("j1"), Ct))!;

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Store.TryUpdateAsync(read with { State = JobState.Succeeded }, "oops", T0, Ct));

        Assert.Contains("queued", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("succeeded", e.Message, StringComparison.OrdinalIgnoreCase);
        Same(read, (await Store.GetAsync(Key("j1"), Ct))!);
        Assert.Single(await Store.EventsAsync(Key("j1"), Ct));
    }

    [StoreFact]
    public async Task Updating_a_job_that_was_never_submitted_throws()
    {
        var ghost = new JobRecord { Job = Simple("ghost"), Team = "a", SubmittedAt = T0, Version = 1 };

        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.TryUpdateAsync(ghost, "?", T0, Ct));
        Assert.Null(await Store.GetAsync(Key("ghost"), Ct));
    }

    [StoreFact]
    public async Task The_submitted_job_and_time_are_not_rewritten_by_an_update()
    {
        // The team is half of the job's key: an update naming another team addresses another job (see below).
        await Store.SubmitAsync([Submit(Rich("j1"), "vision")], T0, Ct);
        var read = (await Store.GetAsync(Key("j1", "vision"), Ct))!;

        var saved = await Store.TryUpdateAsync(
            read with { Job = Simple("j1"), SubmittedAt = T0.AddDays(1), CostSoFarUsd = 2 }, "cost", T0, Ct);

        var stored = (await Store.GetAsync(Key("j1", "vision"), Ct))!;
        Same(Rich("j1"), stored.Job);
        Assert.Equal(("vision", T0, 2.0), (stored.Team, stored.SubmittedAt, stored.CostSoFarUsd));
        Same(stored, saved!);
    }

    [StoreFact]
    public async Task Every_state_change_is_an_event_in_order_with_its_time_and_cause()
    {
        await Store.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        (JobState To, string Cause)[] path =
        [
            (JobState.Planned, "plan 1"), (JobState.Launching, "due"), (JobState.Running, "instance up"),
            (JobState.Interrupted, "spot reclaimed"), (JobState.Queued, "replan"), (JobState.Planned, "plan 2"),
            (JobState.Launching, "due"), (JobState.Running, "up"), (JobState.Succeeded, "exit 0"),
        ];
        for (var i = 0; i < path.Length; i++)
        {
            await MoveAsync(Key("j1"), path[i].To, path[i].Cause, T0.AddMinutes(i + 1));
        }

        var events = await Store.EventsAsync(Key("j1"), Ct);

        Assert.Equal(path.Length + 1, events.Count);
        Assert.Equal([JobState.Queued, .. path.Select(p => p.To)], events.Select(e => e.To));
        Assert.Equal([null, JobState.Queued, .. path[..^1].Select(p => (JobState?)p.To)], events.Select(e => e.From));
        Assert.Equal(path.Select(p => p.Cause), events.Skip(1).Select(e => e.Cause));
        Assert.Equal(Enumerable.Range(0, path.Length + 1).Select(i => T0.AddMinutes(i)), events.Select(e => e.At));
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
    }

    [StoreFact]
    public async Task An_update_that_keeps_the_state_adds_no_event()
    {
        await Store.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        var read = (await Store.GetAsync(Key("j1"), Ct))!;

        await Store.TryUpdateAsync(read with { CostSoFarUsd = 1.5 }, "cost", T0, Ct);

        Assert.Single(await Store.EventsAsync(Key("j1"), Ct));
    }

    [StoreFact]
    public async Task Resubmitting_the_same_body_is_a_duplicate_answered_with_the_stored_record()
    {
        await Store.SubmitAsync([Submit(Rich("j1"))], T0, Ct);
        await MoveAsync(Key("j1"), JobState.Planned);

        var again = Assert.Single(await Store.SubmitAsync([Submit(Rich("j1"))], T0.AddHours(1), Ct));

        Assert.Equal(SubmitOutcome.Duplicate, again.Outcome);
        Same((await Store.GetAsync(Key("j1"), Ct))!, again.Record!);
        Assert.Equal(JobState.Planned, again.Record!.State);
        Assert.Equal(T0, again.Record.SubmittedAt);
        Assert.Equal(2, (await Store.EventsAsync(Key("j1"), Ct)).Count);
    }

    [StoreFact]
    public async Task A_different_body_under_a_used_id_is_a_conflict_and_changes_nothing()
    {
        await Store.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        var before = (await Store.GetAsync(Key("j1"), Ct))!;

        var other = Assert.Single(await Store.SubmitAsync([new Submission(Rich("j1"), "team-a", "{\"jobId\":\"j1\",\"priority\":9}")], T0.AddHours(1), Ct));

        Assert.Equal((SubmitOutcome.Conflict, "j1"), (other.Outcome, other.JobId));
        Assert.Null(other.Record);
        Same(before, (await Store.GetAsync(Key("j1"), Ct))!);
        Assert.Single(await Store.EventsAsync(Key("j1"), Ct));
    }

    [StoreFact]
    public async Task Another_team_may_use_the_same_id_and_body_and_is_created_not_a_duplicate()
    {
        var first = Assert.Single(await Store.SubmitAsync([Submit(Simple("j1"), "a")], T0, Ct));

        var other = Assert.Single(await Store.SubmitAsync([Submit(Simple("j1"), "b")], T0.AddMinutes(1), Ct));

        Assert.Equal((SubmitOutcome.Created, SubmitOutcome.Created), (first.Outcome, other.Outcome));
        Assert.Equal(("b", T0.AddMinutes(1)), (other.Record!.Team, other.Record.SubmittedAt));
        var (a, b) = ((await Store.GetAsync(Key("j1", "a"), Ct))!, (await Store.GetAsync(Key("j1", "b"), Ct))!);
        Assert.Equal(("a", T0, "b", T0.AddMinutes(1)), (a.Team, a.SubmittedAt, b.Team, b.SubmittedAt));
        Assert.Equal(SubmitOutcome.Duplicate, Assert.Single(await Store.SubmitAsync([Submit(Simple("j1"), "b")], T0, Ct)).Outcome);
    }

    [StoreFact]
    public async Task A_team_reads_nothing_under_another_teams_id()
    {
        await Store.SubmitAsync([Submit(Simple("j1"), "a")], T0, Ct);

        Assert.Null(await Store.GetAsync(Key("j1", "b"), Ct));
        Assert.Empty(await Store.EventsAsync(Key("j1", "b"), Ct));
        Assert.Empty(await Store.ListAsync(new JobQuery(Team: "b"), Ct));
    }

    [StoreFact]
    public async Task The_same_id_in_two_teams_is_two_independent_jobs()
    {
        await Store.SubmitAsync([Submit(Rich("j1"), "a"), Submit(Simple("j1"), "b")], T0, Ct);
        await Store.SubmitAsync([Submit(Simple("j2"), "b"), Submit(Simple("j2"), "a")], T0, Ct);
        var a1 = (await Store.GetAsync(Key("j1", "a"), Ct))!;
        var b1 = (await Store.GetAsync(Key("j1", "b"), Ct))!;

        var planned = await Store.TryUpdateAsync(a1 with { State = JobState.Planned, CostSoFarUsd = 1 }, "planned", T0.AddMinutes(1), Ct);
        var cancelled = await Store.TryUpdateManyAsync([(b1 with { State = JobState.Cancelled }, "cancelled")], T0.AddMinutes(2), Ct);

        Same(Rich("j1"), a1.Job);
        Same(Simple("j1"), b1.Job);
        Assert.NotNull(planned);
        Assert.NotNull(Assert.Single(cancelled));
        var (a, b) = ((await Store.GetAsync(Key("j1", "a"), Ct))!, (await Store.GetAsync(Key("j1", "b"), Ct))!);
        Assert.Equal((JobState.Planned, 1.0, 2L), (a.State, a.CostSoFarUsd, a.Version));
        Assert.Equal((JobState.Cancelled, 0.0, 2L), (b.State, b.CostSoFarUsd, b.Version));
        var aEvents = await Store.EventsAsync(Key("j1", "a"), Ct);
        var bEvents = await Store.EventsAsync(Key("j1", "b"), Ct);
        Assert.Equal(["submitted", "planned"], aEvents.Select(e => e.Cause));
        Assert.Equal(["submitted", "cancelled"], bEvents.Select(e => e.Cause));
        Assert.All(aEvents, e => Assert.Equal(Key("j1", "a"), e.Key));
        Assert.All(bEvents, e => Assert.Equal(Key("j1", "b"), e.Key));

        Assert.Equal(["j1"], Ids(await Store.ListAsync(new JobQuery(Team: "a", Limit: 1), Ct)));
        var nextA = await Store.ListAsync(new JobQuery(Team: "a", After: "j1"), Ct);
        var nextB = await Store.ListAsync(new JobQuery(Team: "b", After: "j1"), Ct);
        Assert.Equal([Key("j2", "a")], nextA.Select(r => r.Key));
        Assert.Equal([Key("j2", "b")], nextB.Select(r => r.Key));
        Assert.Empty(await Store.ListAsync(new JobQuery(Team: "b", After: "j2"), Ct));
    }

    [StoreFact]
    public async Task An_update_finds_the_job_by_team_and_id()
    {
        await Store.SubmitAsync([Submit(Simple("j1"), "a")], T0, Ct);
        var mine = (await Store.GetAsync(Key("j1", "a"), Ct))!;

        // The same id under a team that has no such job: nothing to update, and a's job is untouched.
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Store.TryUpdateAsync(mine with { Team = "b", State = JobState.Cancelled }, "not yours", T0, Ct));

        Same(mine, (await Store.GetAsync(Key("j1", "a"), Ct))!);
    }

    [StoreFact]
    public async Task A_batch_answers_each_job_and_stores_all_but_its_conflicts()
    {
        await Store.SubmitAsync([Submit(Simple("old"))], T0, Ct);

        var results = await Store.SubmitAsync(
        [
            Submit(Simple("new1")),
            Submit(Simple("old")),
            new Submission(Simple("old"), "team-a", "a different body"),
            Submit(Simple("new2")),
            Submit(Simple("new2")),
            new Submission(Simple("new2"), "team-a", "changed within the batch"),
        ], T0, Ct);

        Assert.Equal(["new1", "old", "old", "new2", "new2", "new2"], results.Select(r => r.JobId));
        Assert.Equal(
            [SubmitOutcome.Created, SubmitOutcome.Duplicate, SubmitOutcome.Conflict, SubmitOutcome.Created, SubmitOutcome.Duplicate, SubmitOutcome.Conflict],
            results.Select(r => r.Outcome));
        Assert.Equal(["old", "new1", "new2"], Ids(await Store.ListAsync(new JobQuery(), Ct)));
    }

    [StoreFact]
    public async Task An_empty_batch_stores_nothing()
    {
        Assert.Empty(await Store.SubmitAsync([], T0, Ct));
        Assert.Empty(await Store.ListAsync(new JobQuery(), Ct));
    }

    [StoreFact]
    public async Task Counts_by_state_are_per_team_or_overall()
    {
        await Store.SubmitAsync([.. Enumerable.Range(0, 5).Select(i => Submit(Simple($"a{i}"), "a")), Submit(Simple("b0"), "b")], T0, Ct);
        await MoveAsync(Key("a0", "a"), JobState.Planned);
        await MoveAsync(Key("a1", "a"), JobState.Cancelled);
        await MoveAsync(Key("b0", "b"), JobState.Planned);

        var all = await Store.CountByStateAsync(null, Ct);
        var a = await Store.CountByStateAsync("a", Ct);
        var none = await Store.CountByStateAsync("nobody", Ct);

        Assert.Equal((3, 2, 1, 0), (all.GetValueOrDefault(JobState.Queued), all.GetValueOrDefault(JobState.Planned), all.GetValueOrDefault(JobState.Cancelled), all.GetValueOrDefault(JobState.Running)));
        Assert.Equal((3, 1, 1), (a.GetValueOrDefault(JobState.Queued), a.GetValueOrDefault(JobState.Planned), a.GetValueOrDefault(JobState.Cancelled)));
        Assert.Equal(6, all.Values.Sum());
        Assert.Equal(0, none.Values.Sum());
    }

    [StoreFact]
    public async Task Lists_page_in_submission_order_after_a_cursor()
    {
        await Store.SubmitAsync([.. Enumerable.Range(0, 5).Select(i => Submit(Simple($"p{i}"), i == 2 ? "b" : "a"))], T0, Ct);

        var first = await Store.ListAsync(new JobQuery(Team: "a", Limit: 2), Ct);
        var second = await Store.ListAsync(new JobQuery(Team: "a", Limit: 2, After: first[^1].Id), Ct);
        var last = await Store.ListAsync(new JobQuery(Team: "a", Limit: 2, After: second[^1].Id), Ct);

        Assert.Equal(["p0", "p1"], Ids(first));
        Assert.Equal(["p3", "p4"], Ids(second));
        Assert.Empty(last);
        Assert.Empty(await Store.ListAsync(new JobQuery(Team: "a", After: "unknown"), Ct));
        Assert.Empty(await Store.ListAsync(new JobQuery(Team: "a", After: "p2"), Ct));
    }

    [StoreFact]
    public async Task Paging_without_a_team_is_refused_as_ids_are_a_teams_own()
    {
        await Store.SubmitAsync([Submit(Simple("p0"), "a")], T0, Ct);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => Store.ListAsync(new JobQuery(After: "p0"), Ct));

        Assert.Contains("p0", e.Message, StringComparison.Ordinal);
    }

    [StoreFact]
    public async Task Spend_so_far_is_summed_per_team_or_overall()
    {
        Assert.Equal(0, await Store.SpendSoFarUsdAsync(null, Ct));
        await Store.SubmitAsync([Submit(Simple("a0"), "a"), Submit(Simple("a1"), "a"), Submit(Simple("b0"), "b")], T0, Ct);
        foreach (var (id, usd) in new[] { ("a0", 1.25), ("a1", 2.5), ("b0", 10.0) })
        {
            var read = (await Store.GetAsync(Key(id, id[..1]), Ct))!;
            Assert.NotNull(await Store.TryUpdateAsync(read with { CostSoFarUsd = usd }, "cost", T0, Ct));
        }

        Assert.Equal(13.75, await Store.SpendSoFarUsdAsync(null, Ct), 9);
        Assert.Equal(3.75, await Store.SpendSoFarUsdAsync("a", Ct), 9);
        Assert.Equal(0, await Store.SpendSoFarUsdAsync("nobody", Ct));
    }

    [StoreFact]
    public async Task The_latest_plan_is_the_last_one_saved()
    {
        Assert.Null(await Store.LatestPlanAsync(Ct));
        var first = Plan("greedy", T0);
        var second = Plan("cp-sat", T0.AddMinutes(5));

        await Store.SavePlanAsync(first, T0, Ct);
        await Store.SavePlanAsync(second, T0.AddMinutes(5), Ct);

        var latest = await Store.LatestPlanAsync(Ct);
        Assert.NotNull(latest);
        Assert.Equal(second.ToJson(), latest.ToJson());
    }

    protected static PlanDocument Plan(string planner, DateTimeOffset now) => new(
        planner, now, "optimal",
        new PlanDocument.TotalsView(12.5, 40.25, 68.9441, 11.0, 1.0 / 3, 0.42, 1, 1, 0),
        [new PlanDocument.AssignmentView("j1", "spot", "g5.xlarge", "us-east-1b", now.AddTicks(17), now.AddHours(2), 0.3071, 0.7,
            now.AddHours(1), "cheapest spot with slack")],
        [new PlanDocument.UnplannedView("j2", "deadline before earliest start")]);

    protected async Task MoveAsync(JobKey key, JobState to, string cause = "test", DateTimeOffset? at = null)
    {
        var read = (await Store.GetAsync(key, Ct))!;
        Assert.NotNull(await Store.TryUpdateAsync(read with { State = to }, cause, at ?? T0, Ct));
    }

    protected static string[] Ids(IEnumerable<JobRecord> records) => [.. records.Select(r => r.Id)];
}
