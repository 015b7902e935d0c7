namespace Spotwise.Runtime.Tests;

public class JobKeyTests
{
    [Theory]
    [InlineData("ml/train", "ml", "train")]
    [InlineData("ml/a/b", "ml", "a/b")]
    public void The_text_form_is_team_slash_id_and_reads_back_at_the_first_slash(string text, string team, string id)
    {
        Assert.True(JobKey.TryParse(text, out var key));

        Assert.Equal(new JobKey(team, id), key);
        Assert.Equal(text, key.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("train")]
    [InlineData("/train")]
    [InlineData("ml/")]
    public void Text_without_both_a_team_and_an_id_is_not_a_key(string? text) => Assert.False(JobKey.TryParse(text, out _));

    [Fact]
    public void A_message_names_the_teams_own_jobs_by_id_and_leaves_the_rest()
    {
        var text = JobKey.ForTeam("depends on 'ml/prep', which could not be planned; 'mlops/x' and ml/bare stay", "ml");

        Assert.Equal("depends on 'prep', which could not be planned; 'mlops/x' and ml/bare stay", text);
    }
}
