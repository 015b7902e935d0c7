using Spotwise.Runtime;
using Spotwise.Simulation.Queue;
using Spotwise.Storage.Contract;

namespace Spotwise.Simulation.Tests.Queue;

/// <summary>The simulation's store keeps the same contract as the durable one.</summary>
public sealed class InMemoryJobStoreTests : JobStoreContract
{
    protected override Task<IJobStore> CreateStoreAsync() => Task.FromResult<IJobStore>(new InMemoryJobStore());
}
