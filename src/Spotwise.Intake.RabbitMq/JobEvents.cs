using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Intake.RabbitMq;

/// <summary>
/// A job's state change as published on <c>spotwise.events</c> with routing key <c>job.&lt;state&gt;</c>. <see cref="Sequence"/>
/// is the store's number of the change within the job (1 is the submission): (team, jobId, sequence) names one change,
/// so a consumer drops a repeat by it.
/// </summary>
public sealed record JobStateEvent(
    string Team,
    string JobId,
    string State,
    string? From,
    DateTimeOffset At,
    long Sequence,
    int Attempt,
    string Cause,
    string? Market,
    string? InstanceType,
    string? Zone,
    string? LastError)
{
    public string RoutingKey => "job." + State;

    public static JobStateEvent Of(JobRecord record, JobEvent change) => new(
        record.Team, record.Id, change.To.ToWire(), change.From?.ToWire(), change.At, change.Sequence, record.Attempt, change.Cause,
        record.Placement?.Market.ToWire(), record.Placement?.InstanceType, record.Placement?.Zone, record.LastError);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static JobStateEvent? FromJson(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize<JobStateEvent>(json, Json);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>A committed write the publisher still has to look at: did it move the job, and to what?</summary>
public sealed record CommittedWrite(JobRecord Record, string? Cause, DateTimeOffset At);

/// <summary>
/// Committed writes waiting for the publisher, bounded: while the broker is away the oldest are dropped past
/// <see cref="RabbitMqOptions.EventBuffer"/> (counted in <see cref="Dropped"/>), so a broker outage never holds a writer.
/// </summary>
public sealed class CommittedWrites
{
    private readonly Channel<CommittedWrite> _writes;
    private long _dropped;

    public CommittedWrites(int capacity)
    {
        _writes = Channel.CreateBounded<CommittedWrite>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>Writes dropped because the buffer was full (their events were never published).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Add(CommittedWrite write) => _writes.Writer.TryWrite(write);

    public ChannelReader<CommittedWrite> Reader => _writes.Reader;
}
