using Spotwise.Bench;

// The bench's commands; each lives in its own class, and this switch is all that dispatches them.
const string Commands = "commands:\n  " + GenerateCommand.Usage + "\n  " + PlannersCommand.Usage + "\n  " + CycleCommand.Usage + "\n  " + ServiceCommand.Usage + "\n  " + LlmEvalCommand.Usage + "\n  " + QueueSimCommand.Usage + "\n  " + SimulateSweepCommand.Usage + "\n  " + PolicySpeedCommand.Usage + "\n  " + PricesCommand.Usage + "\n  " + AwsLaunchCommand.Usage + "\n  " + IntakeCommand.Usage + "\n  " + FailoverCommand.Usage;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Commands);
    return args.Length == 0 ? 2 : 0;
}

switch (args[0])
{
    case "generate":
        return GenerateCommand.Run(args[1..], TimeProvider.System, Console.Out, Console.Error);
    case "cycle":
        return await CycleCommand.RunAsync(args[1..], Console.Out, Console.Error);
    case "service":
        return await ServiceCommand.RunAsync(args[1..], Console.Out, Console.Error);
    case "intake":
        return await IntakeCommand.RunAsync(args[1..], Console.Out, Console.Error);
    case "queue-sim":
        return await QueueSimCommand.RunAsync(args[1..], Console.Out, Console.Error);
    case "simulate-sweep":
        return SimulateSweepCommand.Run(args[1..], Console.Out, Console.Error);
    case "policy-speed":
        return PolicySpeedCommand.Run(args[1..], Console.Out, Console.Error);
    case "planners":
        return await PlannersCommand.RunAsync(args[1..], Console.Out, Console.Error);
    case "prices":
        return await PricesCommand.RunAsync(args[1..], Console.Out, Console.Error);
    case "aws-launch":
        return await AwsLaunchCommand.RunAsync(args[1..], Console.Out, Console.Error);
    case "failover":
        return await FailoverCommand.RunAsync(args[1..], Console.Out, Console.Error);
    case "llm-eval":
        return await LlmEvalCommand.RunAsync(args[1..], Console.Out, Console.Error);
    default:
        Console.Error.WriteLine($"'{args[0]}' is not a command; {Commands}");
        return 2;
}
