package dev.ferry.cli;

import dev.ferry.controller.ControllerProcess;
import dev.ferry.controller.ControllerRunner;
import dev.ferry.controller.OrphanSweep;
import dev.ferry.controller.ProviderRegistry;
import dev.ferry.controller.RunOptions;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.RetainedAddress;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
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
    version = "ferry " + ControllerProcess.VERSION,
    description = "Makes type: LoadBalancer Services real.",
    subcommands = {Main.Run.class, Main.Gc.class, AutoComplete.GenerateCompletion.class})
public final class Main {

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
      return ControllerRunner.runUntilStopped(options);
    }
  }

  /** {@code ferry gc}: the leak sweeper, a dry run unless {@code --delete}. */
  @Command(
      name = "gc",
      mixinStandardHelpOptions = true,
      description =
          "List load balancers the provider owns for a cluster that no Service wants; remove them"
              + " with --delete (a dry run otherwise). Then list the addresses retained for the"
              + " cluster (reclaim policy Retain); each goes only when named with"
              + " --delete-retained.",
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

    @Option(
        names = "--delete-retained",
        paramLabel = "ID",
        description =
            "Delete this retained address (its ID as listed); repeatable. Retained addresses are"
                + " never deleted otherwise, --delete included.")
    List<String> deleteRetained = new ArrayList<>();

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
      try (LoadBalancerProvider p =
          factory.create(ProviderContext.builder(clusterName).settings(providerSettings).build())) {
        List<OrphanSweep.Found> found = OrphanSweep.scan(kubeconfig, p, clusterName);
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
        return retained(p, out, this);
      }
    }
  }

  /**
   * Lists the addresses retained for the cluster ({@code ferry.dev/reclaim-policy: Retain}), and
   * deletes those named with {@code --delete-retained}. Exit 2 when one named cannot be deleted.
   */
  private static int retained(LoadBalancerProvider p, PrintWriter out, Gc gc)
      throws ProviderException {
    if (!p.capabilities().retain()) {
      if (!gc.deleteRetained.isEmpty()) {
        out.println("provider '" + gc.provider + "' retains no addresses");
        return 2;
      }
      return 0;
    }
    int status = 0;
    List<String> done = new ArrayList<>();
    for (String id : gc.deleteRetained) {
      try {
        p.deleteRetained(gc.clusterName, id);
        done.add(id);
      } catch (ProviderException.InvalidPlan e) {
        out.println("not deleted: " + id + ": " + e.getMessage());
        status = 2;
      }
    }
    List<RetainedAddress> kept = p.listRetained(gc.clusterName);
    out.printf("%n%-40s %-30s %-40s %-7s%n", "RETAINED ADDRESS", "FOR SERVICE", "ID", "STATE");
    for (RetainedAddress r : kept) {
      out.printf(
          "%-40s %-30s %-40s %-7s%n",
          r.address(), r.serviceKey(), r.id(), r.inUse() ? "in use" : "idle");
    }
    out.printf(
        "%d addresses retained for cluster %s; %d deleted (--delete-retained ID)%n",
        kept.size(), gc.clusterName, done.size());
    out.flush();
    return status;
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
