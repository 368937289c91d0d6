package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.ProviderContext;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ferry}: the controller's command line. */
@Command(
    name = "ferry",
    mixinStandardHelpOptions = true,
    version = "ferry " + Main.VERSION,
    description = "Makes type: LoadBalancer Services real.",
    subcommands = {Main.Run.class, Main.Gc.class, AutoComplete.GenerateCompletion.class})
public final class Main {

  /** Ferry's version, as {@code --version} prints it and the API server sees it (User-Agent). */
  static final String VERSION = "0.1.0";

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Main.class);

  /** {@code ferry run}: runs the controller until stopped. */
  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description = "Run the controller against a cluster.",
      footer = {
        "",
        "Examples:",
        "  ferry run --kubeconfig ~/.kube/config --provider local --cluster-name dev",
        "  ferry run --provider aws --cluster-name prod-eu --provider-setting aws.region=eu-west-1"
      })
  public static final class Run implements Callable<Integer> {
    @Mixin RunOptions options;

    @Override
    public Integer call() throws Exception {
      return runUntilStopped(options);
    }
  }

  /** {@code ferry gc}: the leak sweeper, a dry run unless {@code --delete}. */
  @Command(
      name = "gc",
      mixinStandardHelpOptions = true,
      description =
          "List load balancers the provider owns for a cluster that no Service wants; remove them"
              + " with --delete (a dry run otherwise).",
      footer = {
        "",
        "Example:",
        "  ferry gc --provider aws --cluster-name prod-eu --provider-setting aws.region=eu-west-1"
      })
  public static final class Gc implements Callable<Integer> {
    @Option(
        names = "--kubeconfig",
        description = "Kubeconfig file; default: in-cluster, else $KUBECONFIG or ~/.kube/config.")
    Path kubeconfig;

    @Option(names = "--provider", defaultValue = "local", description = "Provider name.")
    String provider;

    @Option(
        names = "--plugin-path",
        paramLabel = "DIR",
        defaultValue = "${env:FERRY_PLUGIN_PATH}",
        split = ":",
        description = "Directories of provider plugins (default: $FERRY_PLUGIN_PATH).")
    List<Path> pluginPath = new java.util.ArrayList<>();

    @Option(
        names = "--provider-setting",
        paramLabel = "KEY=VALUE",
        description = "A provider setting; repeatable.")
    Map<String, String> providerSettings = new LinkedHashMap<>();

    @Option(
        names = "--cluster-name",
        required = true,
        description = "The cluster whose load balancers to check (as in the controller's flag).")
    String clusterName;

    @Option(names = "--delete", description = "Delete what is orphaned (default: only list).")
    boolean delete;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      try {
        return sweep();
      } catch (IllegalArgumentException | IllegalStateException e) {
        spec.commandLine().getErr().println("ferry: " + e.getMessage());
        return 2;
      }
    }

    private int sweep() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      LoadBalancerProviderFactory factory =
          ProviderRegistry.load(Main.class.getClassLoader(), pluginPath).get(provider);
      try (KubernetesClient client =
              KubeClients.build(ApiServerConnection.find(kubeconfig).requireReachable().config());
          LoadBalancerProvider p =
              factory.create(
                  ProviderContext.builder(clusterName).settings(providerSettings).build())) {
        List<OrphanSweep.Found> found =
            OrphanSweep.find(
                p,
                clusterName,
                OrphanSweep.byUid(client.services().inAnyNamespace().list().getItems()));
        out.printf("%-20s %-30s %-38s %-8s %s%n", "NAMESPACE", "NAME", "UID", "STATE", "ACTION");
        int orphans = 0;
        int deleted = 0;
        for (OrphanSweep.Found f : found) {
          String action = "-";
          if (f.orphan()) {
            orphans++;
            if (delete) {
              p.ensureDeleted(f.ref());
              deleted++;
              action = "deleted";
            } else {
              action = "would delete (--delete)";
            }
          }
          out.printf(
              "%-20s %-30s %-38s %-8s %s%n",
              f.ref().namespace(),
              f.ref().name(),
              f.ref().uid(),
              f.orphan() ? "orphan" : "in use",
              action);
        }
        out.printf(
            "%d load balancers owned by cluster %s; %d orphaned; %d deleted%n",
            found.size(), clusterName, orphans, deleted);
        out.flush();
        return 0;
      }
    }
  }

  /** Starts a controller and blocks until it stops or the JVM is asked to exit. */
  public static int runUntilStopped(RunOptions options) throws Exception {
    return runUntilStopped(options, () -> {});
  }

  /**
   * As {@link #runUntilStopped(RunOptions)}, then runs {@code afterStop} once, on every way out:
   * the controller exiting on its own, failing to start, or being stopped by SIGTERM or ^C. In the
   * last case it runs in the shutdown hook, after the controller has stopped, since the JVM halts
   * once its hooks are done whatever its other threads are doing.
   */
  public static int runUntilStopped(RunOptions options, Runnable afterStop) throws Exception {
    Runnable once =
        new Runnable() {
          private boolean ran;

          @Override
          public synchronized void run() { // a second caller waits until the first is done
            if (!ran) {
              ran = true;
              afterStop.run();
            }
          }
        };
    // the hook goes in before the process starts: a SIGTERM during start-up (informers syncing,
    // the lease campaign begun) is then a graceful stop too, not a JVM exit with no word
    AtomicReference<ControllerProcess> started = new AtomicReference<>();
    Thread hook =
        new Thread(
            () -> {
              ControllerProcess p = started.get();
              if (p == null || !p.hasStopped()) {
                log.info("asked to stop (SIGTERM or ^C); shutting down");
                if (p != null) {
                  p.close();
                }
                log.info("stopped");
              }
              once.run();
            },
            "ferry-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      ControllerProcess process;
      try {
        process = ControllerProcess.start(options);
        started.set(process);
      } catch (IllegalArgumentException | IllegalStateException e) {
        System.err.println("ferry: " + e.getMessage());
        return 2;
      } finally {
        if (started.get() == null) {
          try {
            Runtime.getRuntime().removeShutdownHook(hook); // it never started: nothing to stop
          } catch (IllegalStateException shuttingDown) {
            // the hook is already running
          }
        }
      }
      return process.awaitExit();
    } finally {
      once.run();
    }
  }

  public static void main(String[] args) {
    List<CommandExtension> extensions = new ArrayList<>();
    ServiceLoader.load(CommandExtension.class).forEach(extensions::add);
    extensions.forEach(e -> e.prepare(args));
    System.exit(commandLine(extensions).execute(args));
  }

  /** {@code ferry}'s command line: Main's commands, and those the extensions add or replace. */
  static CommandLine commandLine(List<CommandExtension> extensions) {
    CommandLine cl = new CommandLine(new Main());
    for (CommandExtension e : extensions) {
      for (Object command : e.commands()) {
        String name = new CommandLine(command).getCommandName();
        if (cl.getSubcommands().containsKey(name)) {
          cl.getCommandSpec().removeSubcommand(name);
        }
        cl.addSubcommand(name, command);
      }
    }
    return cl;
  }
}
