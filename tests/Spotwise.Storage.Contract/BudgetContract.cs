using Spotwise.Runtime;
using Spotwise.Runtime.Budgeting;
using static Spotwise.Storage.Contract.TestJobs;

namespace Spotwise.Storage.Contract;

/// <summary>
/// What every store that keeps teams' budgets (<see cref="IBudgetStore"/>) does with them. An implementation's test class
/// inherits this and says how to open the store; a second handle on the same store sees what the first wrote, as another
/// replica would.
/// </summary>
public abstract class BudgetContract : IAsyncLifetime
{
    private readonly List<object> _opened = [];

    protected static CancellationToken Ct => CancellationToken.None;

    /// <summary>A handle on the one store of the test (the first call creates it, empty).</summary>
    protected abstract Task<IJobStore> OpenAsync();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            switch (store)
            {
                case IAsyncDisposable d: await d.DisposeAsync(); break;
                case IDisposable d: d.Dispose(); break;
            }
        }
    }

    private async Task<IBudgetStore> BudgetsAsync()
    {
        var store = await OpenAsync();
        _opened.Add(store);
        return Assert.IsAssignableFrom<IBudgetStore>(store);
    }

    [StoreFact]
    public async Task A_new_store_has_no_budgets()
    {
        var store = await BudgetsAsync();

        Assert.Empty(await store.BudgetLimitsAsync(Ct));
    }

    [StoreFact]
    public async Task A_budget_set_reads_back_by_team_from_another_handle_and_a_second_set_replaces_it()
    {
        var a = await BudgetsAsync();
        var b = await BudgetsAsync();

        await a.SetBudgetLimitAsync("ml", new BudgetLimit(BudgetPeriod.Week, 100), T0, Ct);
        await a.SetBudgetLimitAsync("web", new BudgetLimit(BudgetPeriod.Day, 0.1 + 0.2), T0, Ct);
        await b.SetBudgetLimitAsync("ml", new BudgetLimit(BudgetPeriod.Month, 2500.75), T0.AddMinutes(1), Ct);

        var read = await a.BudgetLimitsAsync(Ct);
        Assert.Equal(2, read.Count);
        Assert.Equal(new BudgetLimit(BudgetPeriod.Month, 2500.75), read["ml"]);
        // Exactly the double that was written: 0.1 + 0.2 is not 0.3.
        Assert.Equal(new BudgetLimit(BudgetPeriod.Day, 0.1 + 0.2), read["web"]);
    }

    [StoreFact]
    public async Task Team_names_are_case_sensitive_like_job_keys()
    {
        var store = await BudgetsAsync();

        await store.SetBudgetLimitAsync("ML", new BudgetLimit(BudgetPeriod.Week, 1), T0, Ct);
        await store.SetBudgetLimitAsync("ml", new BudgetLimit(BudgetPeriod.Week, 2), T0, Ct);

        var read = await store.BudgetLimitsAsync(Ct);
        Assert.Equal((1.0, 2.0), (read["ML"].LimitUsd, read["ml"].LimitUsd));
    }
}
