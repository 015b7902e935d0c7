namespace Spotwise.Intake.RabbitMq.Tests;

/// <summary>Job documents in the JSON of <c>POST /api/jobs</c>.</summary>
public static class Jobs
{
    public static string One(string id, int priority = 5) =>
        $"{{\"jobId\":\"{id}\",\"priority\":{priority},\"estimatedDurationHours\":1,\"resourceRequirements\":{{\"type\":\"cpu_small\"}}}}";

    public static string Batch(params string[] ids) => "[" + string.Join(",", ids.Select(id => One(id))) + "]";
}
