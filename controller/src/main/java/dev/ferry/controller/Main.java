package dev.ferry.controller;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code ferry}: the controller's command line. */
@Command(
    name = "ferry",
    mixinStandardHelpOptions = true,
    version = "ferry 0.1.0",
    description = "Makes type: LoadBalancer Services real.",
    subcommands = {Main.Run.class})
public final class Main {

  /** {@code ferry run}: runs the controller until stopped. */
  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description = "Run the controller against a cluster.")
  public static final class Run implements Callable<Integer> {
    @Mixin RunOptions options;

    @Override
    public Integer call() throws Exception {
      return runUntilStopped(options);
    }
  }

  /** Starts a controller and blocks until it stops or the JVM is asked to exit. */
  public static int runUntilStopped(RunOptions options) throws Exception {
    ControllerProcess process;
    try {
      process = ControllerProcess.start(options);
    } catch (IllegalArgumentException | IllegalStateException e) {
      System.err.println("ferry: " + e.getMessage());
      return 2;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(process::close, "ferry-shutdown"));
    return process.awaitExit();
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }
}
