using Spotwise.Server;

await SpotwiseApp.Build(args).RunAsync();

/// <summary>Visible to tests: <c>WebApplicationFactory&lt;Program&gt;</c> hosts the server.</summary>
public partial class Program;
