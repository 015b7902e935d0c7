namespace Spotwise.Cli.Tests;

public class ServeCommandTests
{
    [Theory]
    [InlineData("--backend", "nomad", "--backend: 'nomad' is not a backend; choose one of simulated, local")]
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

    [Theory]
    [InlineData("--launch-template: required with --backend aws", "--backend", "aws", "--region", "us-east-1", "--subnets", "subnet-a,subnet-b")]
    [InlineData("--subnets: required with --backend aws", "--backend", "aws", "--launch-template", "lt-0abc")]
    [InlineData("--subnets: 'subnet-a,,subnet-b' has an empty entry", "--backend", "aws", "--launch-template", "lt-0abc", "--subnets", "subnet-a,,subnet-b")]
    [InlineData("--interruption-queue: 'spot-events' is not an SQS queue URL", "--backend", "aws", "--launch-template", "lt-0abc", "--subnets", "subnet-a", "--interruption-queue", "spot-events")]
    [InlineData("--agent-callback-url: 'spotwise.local' is not an absolute http(s) URL", "--backend", "aws", "--launch-template", "lt-0abc", "--subnets", "subnet-a", "--agent-callback-url", "spotwise.local")]
    [InlineData("--agent-callback-url: only for --backend aws", "--agent-callback-url", "https://spotwise.example.com")]
    [InlineData("--region: only for --backend aws (the backend is simulated)", "--region", "us-west-2")]
    [InlineData("--region: 'mars-1' is not an AWS region", "--backend", "aws", "--region", "us-east-1", "--region", "mars-1", "--launch-template", "lt-0abc", "--subnets", "subnet-a")]
    [InlineData("--launch-template: 'lt-0abc' is one region's template id; with several --region give the template's name", "--backend", "aws", "--region", "us-east-1", "--region", "us-west-2", "--launch-template", "lt-0abc", "--subnets", "subnet-a")]
    [InlineData("--region: 'us-east-1' is given twice", "--backend", "aws", "--region", "us-east-1", "--region", "us-east-1", "--launch-template", "lt-0abc", "--subnets", "subnet-a")]
    [InlineData("--launch-api: 'fleet' is not a launch API (run-instances, create-fleet)", "--backend", "aws", "--launch-template", "lt-0abc", "--subnets", "subnet-a", "--launch-api", "fleet")]
    [InlineData("--launch-api: create-fleet cannot pass each attempt's user data", "--backend", "aws", "--launch-template", "lt-0abc", "--subnets", "subnet-a", "--launch-api", "create-fleet", "--agent-callback-url", "https://spotwise.example.com")]
    [InlineData("--launch-api: only for --backend aws", "--launch-api", "create-fleet")]
    public void Bad_aws_flags_exit_2_naming_the_flag(string expected, params string[] flags)
    {
        var (code, _, err) = CliRunner.Run(["serve", .. flags]);

        Assert.Equal(2, code);
        Assert.Contains("error: " + expected, err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--kueue-queue: only for --backend kubernetes (the backend is simulated)", "--kueue-queue", "team-ml")]
    [InlineData("--kube-namespace: 'Batch_Jobs' is not a namespace name", "--backend", "kubernetes", "--kube-namespace", "Batch_Jobs")]
    [InlineData("--kubeconfig: '/no/such/kubeconfig' does not exist", "--backend", "kubernetes", "--kubeconfig", "/no/such/kubeconfig")]
    [InlineData("--kueue-queue: 'Team ML' is not a LocalQueue name", "--backend", "kubernetes", "--kueue-queue", "Team ML")]
    [InlineData("--kube-image: 'python 3' is not a container image reference", "--backend", "kubernetes", "--kube-image", "python 3")]
    public void Bad_kubernetes_flags_exit_2_naming_the_flag(string expected, params string[] flags)
    {
        var (code, _, err) = CliRunner.Run(["serve", .. flags]);

        Assert.Equal(2, code);
        Assert.Contains("error: " + expected, err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--slurm-conf: '/no/such/slurm.conf' does not exist", "--backend", "slurm", "--slurm-conf", "/no/such/slurm.conf")]
    [InlineData("--slurm-bin: '/no/such/bin' is not a folder", "--backend", "slurm", "--slurm-bin", "/no/such/bin")]
    [InlineData("--slurm-partition-spot: empty", "--backend", "slurm", "--slurm-partition-spot", " ")]
    [InlineData("--slurm-partition-ondemand: only for --backend slurm (the backend is simulated)", "--slurm-partition-ondemand", "batch")]
    public void Bad_slurm_flags_exit_2_naming_the_flag(string expected, params string[] flags)
    {
        var (code, _, err) = CliRunner.Run(["serve", .. flags]);

        Assert.Equal(2, code);
        Assert.Contains("error: " + expected, err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_slurm_backend_is_listed_beside_the_others()
    {
        var (code, _, err) = CliRunner.Run("serve", "--backend", "hpc");

        Assert.Equal(2, code);
        Assert.Contains("choose one of simulated, local, aws", err, StringComparison.Ordinal);
        Assert.Contains(", slurm", err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_aws_backend_is_listed_beside_the_others()
    {
        var (code, _, err) = CliRunner.Run("serve", "--backend", "ec2");

        Assert.Equal(2, code);
        Assert.Contains("choose one of simulated, local, aws", err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_catalog_with_a_bad_line_exits_2_naming_the_file_and_line()
    {
        var path = CliRunner.TempFile(
            "instance_type,vcpus,memory_gib,gpus,gpu_model,on_demand_usd_per_hour,spot_usd_per_hour_typical,interruption_band\n" +
            "m5.large,2,8,0,,0.096,0.04,1\n" +
            "c5.large,2,4,0,,cheap,0.03,1\n", ".csv");

        var (code, _, err) = CliRunner.Run("serve", "--catalog", path);

        Assert.Equal(2, code);
        Assert.Contains($"error: --catalog: {path}:3: on_demand_usd_per_hour 'cheap' is not a number", err, StringComparison.Ordinal);
    }
}

/// <summary>Where <c>serve</c> keeps the queue: <c>--store</c> (PostgreSQL), SPOTWISE_STORE as its default, or SQLite.</summary>
public class ServeStoreTests
{
    [Theory]
    [InlineData("not a connection string")]
    [InlineData("Database=spotwise;Username=spotwise")]
    public void A_store_that_is_not_a_postgresql_connection_string_exits_2_naming_the_flag(string value)
    {
        var (code, _, err) = CliRunner.Run("serve", "--store", value);

        Assert.Equal(2, code);
        Assert.Contains("error: --store: ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_SPOTWISE_STORE_exits_2_naming_the_variable()
    {
        var (code, _, err) = CliRunner.RunWith(new Dictionary<string, string> { ["SPOTWISE_STORE"] = "Port=5432" }, "serve");

        Assert.Equal(2, code);
        Assert.Contains("error: SPOTWISE_STORE (the default for --store): ", err, StringComparison.Ordinal);
        Assert.Contains("names no Host", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Store_and_db_together_exit_2()
    {
        var (code, _, err) = CliRunner.Run("serve", "--store", "Host=127.0.0.1;Database=spotwise", "--db", "jobs.db");

        Assert.Equal(2, code);
        Assert.Contains("error: --store: the queue is either in PostgreSQL (--store) or in a SQLite file (--db)", err, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreachable_database_is_one_clear_line_naming_where_it_was_looked_for()
    {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        var (code, _, err) = CliRunner.Run("serve", "--urls", "http://127.0.0.1:0",
            "--store", "Host=127.0.0.1;Port=1;Database=spotwise;Username=spotwise;Password=hunter2;Timeout=5");

        Assert.Equal(ApiAnswers.Unreachable, code);
        Assert.StartsWith("error: --store: cannot open the job store: PostgreSQL at 127.0.0.1:1, database 'spotwise'", err, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }
}
