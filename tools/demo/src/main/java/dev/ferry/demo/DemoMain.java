package dev.ferry.demo;

import dev.ferry.controller.ControllerRunner;
import dev.ferry.controller.RunOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ferry demo} and {@code ferry run --embedded-api}: commands this module adds to the
 * controller's command line ({@link DemoCommands}). This module is scaffolding for trying Ferry; it
 * never ships in the image.
 */
public final class DemoMain {

  /** The checkout ./ferry runs from (its {@code ferry.home}), for the scripts under hack/. */
  public static Path home() {
    return Path.of(System.getProperty("ferry.home", ".")).toAbsolutePath().normalize();
  }

  /** {@code ferry demo}. */
  @Command(
      name = "demo",
      mixinStandardHelpOptions = true,
      description = "Run Ferry on an embedded API server with simulated nodes and real traffic.",
      footer = {"", "Examples:", "  ferry demo", "  ferry demo --once      run the tour and exit"})
  static final class Demo implements Callable<Integer> {
    @Option(names = "--once", description = "Run the tour and exit: 0 when every step worked.")
    boolean once;

    @Option(
        names = "--kubeconfig-out",
        description = "Where to write the kubeconfig (default: .ferry/demo.kubeconfig).")
    Path kubeconfigOut;

    @Option(
        names = "--nodes",
        defaultValue = "3",
        description = "Simulated nodes (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Override
    public Integer call() throws Exception {
      Path kubeconfig =
          kubeconfigOut != null ? kubeconfigOut : home().resolve(".ferry/demo.kubeconfig");
      Tour tour = new Tour(home(), kubeconfig, Math.max(3, nodes));
      Runtime.getRuntime().addShutdownHook(new Thread(tour::close, "demo-shutdown"));
      String failed = tour.run();
      if (failed != null) {
        System.out.printf("%nThe demo failed at step: %s%n", failed);
        tour.close();
        return 1;
      }
      System.out.printf("%nEvery step worked.%n");
      if (once) {
        tour.close();
        return 0;
      }
      tour.keepRunning();
      return 0;
    }
  }

  /** {@code ferry run}, with {@code --embedded-api} to start an API server in the process. */
  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description = "Run the controller; --embedded-api starts a local API server for it.",
      footer = {
        "",
        "Examples:",
        "  ferry run --embedded-api --provider local",
        "  ferry run --kubeconfig ~/.kube/config --provider aws --cluster-name prod-eu"
      })
  static final class Run implements Callable<Integer> {
    @Mixin RunOptions options;

    @Option(
        names = "--embedded-api",
        description = "Start an embedded API server and run against it.")
    boolean embeddedApi;

    @Option(
        names = "--embedded-api-port",
        defaultValue = "0",
        description = "Port of the embedded API server (default: any free port).")
    int embeddedApiPort;

    @Option(
        names = "--kubeconfig-out",
        description =
            "Where to write the embedded API's kubeconfig (default: .ferry/embedded.kubeconfig).")
    Path kubeconfigOut;

    @Override
    public Integer call() throws Exception {
      if (!embeddedApi) {
        return ControllerRunner.runUntilStopped(options);
      }
      EmbeddedApi api = EmbeddedApi.start(embeddedApiPort);
      Path path =
          api.writeKubeconfig(
              kubeconfigOut != null ? kubeconfigOut : home().resolve(".ferry/embedded.kubeconfig"));
      System.out.printf(
          "Embedded API server: %s (%s)%nkubeconfig: %s%n", api.url(), api.kind(), path);
      options.kubeconfig = path;
      return ControllerRunner.runUntilStopped(
          options, api::close); // also on SIGTERM: no etcd left behind
    }
  }
}
