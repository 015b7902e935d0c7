using System.Text.Json;
using System.Text.Json.Serialization;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Storage.Sqlite;

/// <summary>
/// A launch intent (<see cref="JobRecord.LaunchIntent"/>) as the <c>jobs.launch_intent</c> column holds it: the
/// request exactly, so a retry asks the backend for the same thing under the same token (doubles round-trip). Field
/// names are the file format: add, never rename. A new <see cref="LaunchRequest"/> field is added here too, with a
/// default for rows written before it.
/// </summary>
internal sealed record StoredLaunch(
    [property: JsonPropertyName("clientToken")] string ClientToken,
    [property: JsonPropertyName("team")] string Team,
    [property: JsonPropertyName("jobId")] string JobId,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("market")] string Market,
    [property: JsonPropertyName("instanceType")] string InstanceType,
    [property: JsonPropertyName("zone")] string Zone,
    [property: JsonPropertyName("workHours")] double WorkHours,
    [property: JsonPropertyName("checkpointable")] bool Checkpointable,
    [property: JsonPropertyName("checkpointIntervalHours")] double CheckpointIntervalHours,
    [property: JsonPropertyName("command")] string? Command)
{
    /// <summary>The provider whose backend the launch goes to (null: the service's default; rows before it have none).</summary>
    [JsonPropertyName("provider")]
    public string? Provider { get; init; }

    /// <summary>Hours of the work spent moving the job's input first (rows before it have none: 0).</summary>
    [JsonPropertyName("transferHours")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double TransferHours { get; init; }

    /// <summary>The job's deadline, for backends that enforce it (rows before it have none).</summary>
    [JsonPropertyName("deadline")]
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>The container image of the job (null: the backend's default; rows before it have none).</summary>
    [JsonPropertyName("image")]
    public string? Image { get; init; }

    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static string? Write(LaunchRequest? r) => r is null ? null : JsonSerializer.Serialize(
        new StoredLaunch(r.ClientToken, r.Team, r.JobId, r.Attempt, r.Market.ToWire(), r.InstanceType, r.Zone, r.WorkHours, r.Checkpointable,
            r.CheckpointIntervalHours, r.Command)
        { Provider = r.Provider, TransferHours = r.TransferHours, Deadline = r.Deadline, Image = r.Image }, Options);

    public static LaunchRequest Read(string json)
    {
        var s = JsonSerializer.Deserialize<StoredLaunch>(json, Options) ?? throw new InvalidDataException("a stored launch intent is JSON null");
        if (!MarketNames.TryParse(s.Market, out var market))
        {
            throw new InvalidDataException($"launch intent '{s.ClientToken}': stored market '{s.Market}' is unknown");
        }
        return new LaunchRequest(s.ClientToken, s.Team, s.JobId, s.Attempt, market, s.InstanceType, s.Zone, s.WorkHours, s.Checkpointable,
            s.CheckpointIntervalHours, s.Command)
        { Provider = s.Provider, TransferHours = s.TransferHours, Deadline = s.Deadline, Image = s.Image };
    }
}
