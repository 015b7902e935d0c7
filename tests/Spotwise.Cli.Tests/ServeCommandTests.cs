namespace Spotwise.Cli.Tests;

public class ServeCommandTests
{
    [Theory]
    [InlineData("--backend", "kubernetes", "--backend: 'kubernetes' is not a backend; choose one of simulated, local")]
    [InlineData("--planner", "magic", "--planner: 'magic' is not a planner")]
    [InlineData("--speed", "0", "--speed: 0 must be a number greater than 0")]
    [InlineData("--cycle-seconds", "-1", "--cycle-seconds: -1 must be greater than 0")]
    [InlineData("--trace", "/no/such/trace.json", "--trace: '/no/such/trace.json' does not exist")]
    public void Bad_serve_flags_exit_2_naming_the_flag(string flag, string value, string expected)
    {
        var (code, _, err) = CliRunner.Run("serve", flag, value);

        Assert.Equal(2, code);
        Assert.Contains("error: " + expected, err);
    }
}
