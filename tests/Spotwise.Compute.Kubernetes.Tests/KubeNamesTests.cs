namespace Spotwise.Compute.Kubernetes.Tests;

public sealed class KubeNamesTests
{
    [Theory]
    [InlineData("ml", "train", 1)]
    [InlineData("ML.Team", "Train:Run_1", 2)]
    [InlineData("a", "---", 3)]
    [InlineData("team", "x", 12345)]
    public void A_job_name_is_a_dns_label_that_reads_as_the_attempt_and_is_the_same_every_time(string team, string id, int attempt)
    {
        var token = $"{team}/{id}#{attempt}";

        var name = KubeNames.JobName("spotwise", token, team, id, attempt);

        Assert.True(KubeNames.IsDnsLabel(name), name);
        Assert.Equal(name, KubeNames.JobName("spotwise", token, team, id, attempt));
        Assert.Contains($"-a{attempt}-", name, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_id_is_cut_to_63_characters_and_two_ids_alike_after_cutting_still_get_two_names()
    {
        var a = "x" + new string('y', 120) + "a";
        var b = "x" + new string('y', 120) + "b";

        var first = KubeNames.JobName("spotwise", $"ml/{a}#1", "ml", a, 1);
        var second = KubeNames.JobName("spotwise", $"ml/{b}#1", "ml", b, 1);

        Assert.Equal(63, first.Length);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Two_ids_that_differ_only_in_case_or_punctuation_get_two_names()
    {
        Assert.NotEqual(KubeNames.JobName("spotwise", "ml/Train#1", "ml", "Train", 1), KubeNames.JobName("spotwise", "ml/train#1", "ml", "train", 1));
        Assert.NotEqual(KubeNames.JobName("spotwise", "ml/a:b#1", "ml", "a:b", 1), KubeNames.JobName("spotwise", "ml/a.b#1", "ml", "a.b", 1));
    }

    [Fact]
    public void The_same_attempt_of_two_installations_gets_two_names() =>
        Assert.NotEqual(KubeNames.JobName("spotwise", "ml/a#1", "ml", "a", 1), KubeNames.JobName("spotwise-staging", "ml/a#1", "ml", "a", 1));

    [Theory]
    [InlineData("train", "train")]
    [InlineData("Run_1.final", "Run_1.final")]
    public void A_valid_label_value_is_kept_as_it_is(string value, string expected) => Assert.Equal(expected, KubeNames.LabelValue(value));

    [Theory]
    [InlineData("a:b")]
    [InlineData("-leading")]
    [InlineData("trailing.")]
    [InlineData(":")]
    public void An_invalid_label_value_becomes_a_valid_one_that_differs_from_its_neighbours(string value)
    {
        var label = KubeNames.LabelValue(value);

        Assert.True(KubeNames.IsLabelValue(label), label);
        Assert.NotEqual(KubeNames.LabelValue(value + "x"), label);
    }

    [Fact]
    public void A_long_label_value_is_cut_to_63_characters()
    {
        var label = KubeNames.LabelValue(new string('a', 128));

        Assert.Equal(63, label.Length);
        Assert.True(KubeNames.IsLabelValue(label));
    }
}
