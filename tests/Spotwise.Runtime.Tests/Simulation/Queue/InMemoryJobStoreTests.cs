using Spotwise.Runtime.Simulation.Queue;
using Spotwise.Storage.Sqlite.Tests;

namespace Spotwise.Runtime.Tests.Simulation.Queue;

/// <summary>The simulation's store keeps the same contract as the durable one.</summary>
public sealed class InMemoryJobStoreTests : JobStoreContract
{
    protected override Task<IJobStore> CreateStoreAsync() => Task.FromResult<IJobStore>(new InMemoryJobStore());
}
