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
 * lease, a short lease duration). Leader election is off unless the test names a lease flag or
 * {@code --leader-elect}.
 */
final class ClusterControllers {

  private ClusterControllers() {}

  static ControllerProcess start(RealApiServer api, Path dir, List<String> extra) throws Exception {
    return start(api.controllerKubeconfig(dir), extra);
  }

  static ControllerProcess start(Path kubeconfig, List<String> extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("--kubeconfig", kubeconfig.toString()));
    addUnlessGiven(args, extra, "--metrics-port", "0");
    addUnlessGiven(args, extra, "--metrics-address", "127.0.0.1");
    addUnlessGiven(args, extra, "--lease-namespace", RealApiServer.NAMESPACE);
    addUnlessGiven(args, extra, "--lease-name", RealApiServer.RELEASE);
    addUnlessGiven(args, extra, "--lease-duration", "4s");
    boolean elect = extra.contains("--leader-elect") || extra.contains("--lease-name");
    if (!elect) {
      args.add("--no-leader-elect");
    }
    args.addAll(extra.stream().filter(a -> !a.equals("--leader-elect")).toList());
    RunOptions options = new RunOptions();
    new CommandLine(options).parseArgs(args.toArray(String[]::new));
    return ControllerProcess.start(options);
  }

  private static void addUnlessGiven(
      List<String> args, List<String> extra, String option, String value) {
    if (!extra.contains(option)) {
      args.add(option);
      args.add(value);
    }
  }
}
