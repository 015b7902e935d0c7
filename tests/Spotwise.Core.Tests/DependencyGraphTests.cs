namespace Spotwise.Core.Tests;

public class DependencyGraphTests
{
    private static Job J(string id, params string[] dependsOn) => TestData.Job(id, 1) with { DependsOn = [.. dependsOn] };

    private static DependencyGraph Of(params Job[] jobs) => DependencyGraph.Of(jobs);

    private static string? Why(DependencyGraph graph, string id) => graph.WhyBlocked(graph.IndexOf(id));

    [Fact]
    public void Prerequisites_come_before_their_dependents_in_the_order()
    {
        var graph = Of(J("c", "b"), J("b", "a"), J("a"), J("d", "a", "c"));

        var position = graph.Order.Select((j, at) => (j, at)).ToDictionary(p => p.j, p => p.at);

        Assert.Equal(4, graph.Order.Count);
        for (var j = 0; j < graph.Count; j++)
        {
            Assert.All(graph.PrerequisitesOf(j), d => Assert.True(position[d] < position[j]));
        }
    }

    [Fact]
    public void A_self_dependency_is_a_cycle_of_one_named_in_the_reason()
    {
        var graph = Of(J("ok"), J("p", "p"));

        Assert.Equal("is in a dependency cycle: p -> p", Why(graph, "p"));
        Assert.Null(Why(graph, "ok"));
        Assert.Equal([graph.IndexOf("ok")], graph.Order);
    }

    [Fact]
    public void Each_job_of_a_cycle_is_told_the_cycle_from_itself()
    {
        var graph = Of(J("a", "b"), J("b", "c"), J("c", "a"));

        Assert.Equal("is in a dependency cycle: a -> b -> c -> a", Why(graph, "a"));
        Assert.Equal("is in a dependency cycle: b -> c -> a -> b", Why(graph, "b"));
        Assert.Empty(graph.Order);
    }

    [Fact]
    public void A_long_cycle_is_shown_by_its_ends_and_its_length()
    {
        var jobs = Enumerable.Range(0, 10_000).Select(i => J($"r{i}", $"r{(i + 1) % 10_000}")).ToArray();

        var graph = Of(jobs);

        Assert.Equal("is in a dependency cycle: r0 -> r1 -> r2 -> r3 -> ... -> r9999 -> r0 (10000 jobs)", Why(graph, "r0"));
        Assert.All(Enumerable.Range(0, jobs.Length), j => Assert.True(graph.IsBlocked(j)));
    }

    [Fact]
    public void A_job_that_reaches_a_cycle_without_being_on_it_is_blocked_behind_it()
    {
        // a <-> b is the cycle; c depends on a; d on c.
        var graph = Of(J("a", "b"), J("b", "a"), J("c", "a"), J("d", "c"));

        Assert.Equal("depends on 'a', which is in a dependency cycle: a -> b -> a", Why(graph, "c"));
        Assert.Equal("depends on 'c', which cannot run: 'a' is in a dependency cycle: a -> b -> a", Why(graph, "d"));
    }

    [Fact]
    public void A_job_on_a_cycle_through_a_shortcut_is_told_the_cycle_it_belongs_to()
    {
        // a -> b -> c -> a, and b also depends on a directly: every job is in the one component.
        var graph = Of(J("a", "b"), J("b", "a", "c"), J("c", "a"));

        Assert.All(["a", "b", "c"], id => Assert.StartsWith("is in a dependency cycle", Why(graph, id), StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_prerequisite_is_named_and_blocks_every_job_behind_it()
    {
        var graph = Of(J("a", "ghost"), J("b", "a"), J("c", "b"), J("ok"));

        Assert.Equal("depends on 'ghost', which is not in the queue", Why(graph, "a"));
        Assert.Equal("depends on 'a', which depends on 'ghost', which is not in the queue", Why(graph, "b"));
        Assert.Equal("depends on 'b', which cannot run: 'a' depends on 'ghost', which is not in the queue", Why(graph, "c"));
        Assert.Equal([graph.IndexOf("ok")], graph.Order);
    }

    [Fact]
    public void A_prerequisite_listed_twice_is_one_prerequisite()
    {
        var graph = Of(J("a"), J("b", "a", "a"));

        Assert.Equal([0], graph.PrerequisitesOf(1));
        Assert.Equal([1], graph.DependentsOf(0));
    }

    [Fact]
    public void A_10000_deep_chain_is_ordered_on_a_small_stack()
    {
        var jobs = Enumerable.Range(0, 10_000).Select(i => i == 0 ? J("c0") : J($"c{i}", $"c{i - 1}")).Reverse().ToArray();
        DependencyGraph? graph = null;

        var thread = new Thread(() => graph = Of(jobs), maxStackSize: 128 * 1024);
        thread.Start();
        thread.Join();

        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => $"c{i}"), graph!.Order.Select(j => jobs[j].Id));
    }

    [Fact]
    public void A_10000_job_cycle_is_found_on_a_small_stack()
    {
        var jobs = Enumerable.Range(0, 10_000).Select(i => J($"r{i}", $"r{(i + 1) % 10_000}")).ToArray();
        DependencyGraph? graph = null;

        var thread = new Thread(() => graph = Of(jobs), maxStackSize: 128 * 1024);
        thread.Start();
        thread.Join();

        Assert.Empty(graph!.Order);
        Assert.Contains("(10000 jobs)", graph.WhyBlocked(0), StringComparison.Ordinal);
    }
}
