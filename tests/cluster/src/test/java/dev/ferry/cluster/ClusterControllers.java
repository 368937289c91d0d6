package dev.ferry.cluster;

import dev.ferry.controller.ControllerProcess;
import dev.ferry.controller.RunOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * Starts controller processes against the real API server as the chart's ServiceAccount, with the
 * flags a test gives on top of the common ones (ops server on a free loopback port, the chart's
 * lease, a short lease duration).
 */
final class ClusterControllers {

  private ClusterControllers() {}

  static ControllerProcess start(RealApiServer api, Path dir, List<String> extra) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--kubeconfig",
                api.controllerKubeconfig(dir).toString(),
                "--metrics-port",
                "0",
                "--metrics-address",
                "127.0.0.1",
                "--lease-namespace",
                RealApiServer.NAMESPACE,
                "--lease-name",
                RealApiServer.RELEASE,
                "--lease-duration",
                "4s"));
    args.addAll(extra);
    if (!args.contains("--leader-elect")) {
      args.add("--no-leader-elect");
    }
    RunOptions options = new RunOptions();
    new CommandLine(options).parseArgs(args.toArray(String[]::new));
    return ControllerProcess.start(options);
  }
}
