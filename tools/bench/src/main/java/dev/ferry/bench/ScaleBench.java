package dev.ferry.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.controller.RunOptions;
import dev.ferry.demo.DemoMain;
import dev.ferry.demo.KubeApiServerProcess;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ferry bench scale}: Ferry (and, with {@code --compare upstream}, the upstream service
 * controller) against a real kube-apiserver and etcd with N simulated Nodes and S Services, each
 * controller driving a simulated cloud that sleeps a set latency per call and can enforce a real
 * cloud's token buckets. One controller at a time, each on a fresh API server. A measurement
 * harness, not a test: it prints figures and asserts nothing; every wait is bounded by {@code
 * --phase-timeout}.
 *
 * <p>What each phase measures: <b>create</b>, the first create to every Service having an address
 * (and per-Service create-to-address p50/p99); <b>node added</b> and <b>node removed</b>, the Node
 * write to the last backend call of the cloud; <b>Ready flap</b> and <b>idle</b>, what a controller
 * does when nothing it serves changed; <b>delete</b>, deleting every Service to the last one gone
 * (finalizers released). Per phase: cloud calls and throttled calls (from the simulated cloud's
 * {@code /stats}), the API requests the controller made (from the API server's audit log, by user
 * agent) and its CPU time; at the end its peak RSS.
 */
@Command(
    name = "scale",
    mixinStandardHelpOptions = true,
    description =
        "Ferry (and the upstream service controller) on a real API server with N Nodes and S"
            + " Services and a simulated cloud; prints each phase's figures.",
    footer = {
      "",
      "Examples:",
      "  ferry bench scale --services 20 --nodes 5",
      "  ferry bench scale --services 1000 --nodes 100 --latency 50ms --workers 5 --compare upstream",
      "  ferry bench scale --services 200 --nodes 20 --buckets aws --compare upstream"
    })
final class ScaleBench implements Callable<Integer> {

  // MB: the audit log must not rotate under the bench's reader, and the API server's writer rotates
  // it at 100 MB when no size is given, which a run of 10,000 Services and 5,000 Nodes passes
  private static final int AUDIT_LOG_MAX_MB = 1_000_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--services", defaultValue = "20", description = "Services (default: 20).")
  int services;

  @Option(names = "--nodes", defaultValue = "5", description = "Nodes (default: 5).")
  int nodes;

  @Option(
      names = "--latency",
      defaultValue = "0ms",
      description = "Simulated latency per cloud call (default: 0ms).")
  String latency;

  @Option(
      names = "--workers",
      defaultValue = "5",
      description = "Workers of each controller (default: 5).")
  int workers;

  @Option(
      names = "--buckets",
      defaultValue = "none",
      description = "Cloud token buckets: aws, gce, arm or none (default: none).")
  String buckets;

  @Option(
      names = "--compare",
      description =
          "upstream: also run the upstream service controller, at its defaults (client QPS 20,"
              + " burst 30) and with its client rate limit lifted; upstream-lifted: only the"
              + " latter.")
  String compare;

  @Option(
      names = "--rounds",
      defaultValue = "1",
      description =
          "Runs of each controller, alternating which goes first; the table shows each figure's"
              + " median (default: 1). On a shared machine runs minutes apart differ by 10-30 %%.")
  int rounds;

  @Option(
      names = "--idle",
      defaultValue = "10s",
      description = "Length of the idle phase (default: 10s).")
  String idle;

  @Option(
      names = "--phase-timeout",
      defaultValue = "10m",
      description = "Longest wait of one phase; a phase that overruns it is reported unfinished.")
  String phaseTimeout;

  @Option(
      names = "--jvm-options",
      defaultValue = Contender.IMAGE_JVM_FLAGS,
      description = "JVM flags of Ferry's process (default: the image's: ${DEFAULT-VALUE}).")
  String jvmOptions;

  @Option(names = "--out", description = "Also write the figures as JSON to this file.")
  Path out;

  @Option(names = "--keep", description = "Keep the run directory (logs, audit log).")
  boolean keep;

  private Duration phaseLimit;
  private boolean warmedUp; // once per bench: Workload.warmUp

  @Override
  public Integer call() throws Exception {
    if (services < 1 || nodes < 1 || workers < 1 || rounds < 1) {
      System.err.println("--services, --nodes, --workers and --rounds must be at least 1");
      return 2;
    }
    phaseLimit = RunOptions.parseDuration(phaseTimeout, "--phase-timeout");
    Duration lat = RunOptions.parseDuration(latency, "--latency");
    Path cache = kubeBinaries();
    List<Contender> contenders = new ArrayList<>();
    contenders.add(Contender.ferry());
    String upstream = null;
    if (compare != null) {
      if (!compare.equals("upstream") && !compare.equals("upstream-lifted")) {
        System.err.println("--compare: 'upstream' or 'upstream-lifted'");
        return 2;
      }
      upstream = build("hack/upstream-controller.sh");
      if (compare.equals("upstream")) {
        contenders.add(Contender.upstream());
      }
      contenders.add(Contender.upstreamLifted());
    }
    System.out.printf(
        "scale bench: %d Services x %d Nodes, %s per cloud call, %d workers, buckets %s; %s, %d"
            + " cores, JDK %s%n",
        services,
        nodes,
        latency,
        workers,
        buckets,
        KubeApiServerProcess.cached().isPresent() ? "kube-apiserver + etcd" : "?",
        Runtime.getRuntime().availableProcessors(),
        Runtime.version());
    Map<String, List<Map<String, Object>>> runs = new LinkedHashMap<>();
    contenders.forEach(c -> runs.put(c.name(), new ArrayList<>()));
    for (int round = 1; round <= rounds; round++) {
      // the machine drifts over minutes: alternate who goes first, so neither always has the
      // fresher (or the warmer) machine
      List<Contender> order = new ArrayList<>(contenders);
      if (round % 2 == 0) {
        Collections.reverse(order);
      }
      for (Contender c : order) {
        System.out.printf("%n== %s%s ==%n", c.name(), rounds > 1 ? ", round " + round : "");
        runs.get(c.name()).add(runOne(cache, c, upstream, lat));
      }
    }
    Map<String, Map<String, Object>> results = new LinkedHashMap<>();
    runs.forEach((name, list) -> results.put(name, Report.medians(list)));
    Report.print(
        results,
        String.format(
            "%d Services x %d Nodes, %d ms per cloud call, %d workers, buckets %s%s",
            services,
            nodes,
            lat.toMillis(),
            workers,
            buckets,
            rounds > 1 ? "; medians of " + rounds + " rounds" : ""),
        phaseTimeout);
    if (rounds > 1) {
      Report.printRounds(runs);
    }
    if (out != null) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put(
          "workload",
          Map.of(
              "services", services,
              "nodes", nodes,
              "latencyMs", lat.toMillis(),
              "workers", workers,
              "buckets", buckets));
      doc.put("controllers", results);
      if (rounds > 1) {
        doc.put("rounds", runs);
      }
      Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc));
      System.out.printf("figures written to %s%n", out);
    }
    boolean allDone =
        results.values().stream().allMatch(r -> Boolean.TRUE.equals(r.get("completed")));
    return allDone ? 0 : 1;
  }

  /** The kube binaries' cache, built by hack/kube-binaries.sh when absent. */
  private static Path kubeBinaries() throws IOException, InterruptedException {
    if (KubeApiServerProcess.cached().isEmpty()) {
      build("hack/kube-binaries.sh");
    }
    return KubeApiServerProcess.cached()
        .orElseThrow(() -> new IllegalStateException("hack/kube-binaries.sh built nothing usable"));
  }

  private static String build(String script) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(DemoMain.home().resolve(script).toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String outText = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (p.waitFor() != 0) {
      throw new IllegalStateException(script + " failed (exit " + p.exitValue() + ")");
    }
    String[] lines = outText.split("\n");
    return lines[lines.length - 1];
  }

  /** One controller's run on a fresh API server: set-up, start, each phase, a restart, stop. */
  private Map<String, Object> runOne(Path cache, Contender c, String upstreamBinary, Duration lat)
      throws Exception {
    Path dir = Files.createTempDirectory("ferry-bench-" + c.name() + "-");
    Path policy = dir.resolve("audit-policy.yaml");
    Files.writeString(
        policy,
        """
        apiVersion: audit.k8s.io/v1
        kind: Policy
        omitStages: ["RequestReceived", "ResponseStarted"]
        rules:
        - level: None
          users: ["system:apiserver"]
        - level: Metadata
        """);
    Path audit = dir.resolve("audit.log");
    Map<String, Object> r = new LinkedHashMap<>();
    Map<String, Object> phases = new LinkedHashMap<>();
    r.put("phases", phases);
    Process[] controller = new Process[1];
    try (KubeApiServerProcess api =
            KubeApiServerProcess.start(
                cache,
                List.of(
                    // room for 10,000s of Services' NodePorts (ClusterIPs: a ServiceCIDR)
                    "--service-node-port-range=" + Workload.NODE_PORTS,
                    "--audit-policy-file=" + policy,
                    "--audit-log-path=" + audit,
                    "--audit-log-maxsize=" + AUDIT_LOG_MAX_MB,
                    "--audit-log-format=json"));
        KubernetesClient client = Workload.benchClient(api);
        AddressWatch watch = new AddressWatch(client)) {
      Workload.setUp(client, nodes);
      if (!warmedUp) {
        warmedUp = true;
        Workload.warmUp(client, services, phaseLimit);
      }
      int[] ports = Ports.freePorts(2);
      int statsPort = ports[0];
      int readyPort = c.isFerry() ? ports[1] : statsPort;
      List<String> cmd =
          c.command(
              new Contender.Settings(
                  api.writeKubeconfig(dir.resolve("kubeconfig")),
                  workers,
                  lat,
                  buckets,
                  statsPort,
                  readyPort,
                  jvmOptions,
                  DemoMain.home().resolve("tools/sim-provider/target/plugin"),
                  upstreamBinary));
      Path log = dir.resolve(c.name() + ".log");
      Contender.Started started = c.start(cmd, log, readyPort);
      controller[0] = started.process();
      r.put("startToReadySeconds", Timing.round(started.readySeconds()));
      System.out.printf("  process start -> ready: %.2f s%n", started.readySeconds());
      AuditLog auditLog = new AuditLog(audit, c.userAgentPrefix());
      CloudStats stats = new CloudStats(statsPort);
      Phases run =
          new Phases(client, watch, stats, () -> controller[0], lat, services, workers, phaseLimit);
      PhaseCost cost = new PhaseCost(controller[0].pid(), stats, auditLog, run.tailLimit());

      report(phases, "create", run.createBurst(cost));
      // a Node added, then removed: the time to the cloud's last backend call
      report(phases, "nodeAdded", run.nodeChange(cost, () -> Workload.addNode(client, nodes)));
      report(phases, "nodeRemoved", run.nodeChange(cost, () -> Workload.removeNode(client, nodes)));
      report(phases, "readyFlap", run.readyFlap(cost));
      report(phases, "idle", run.idle(cost, RunOptions.parseDuration(idle, "--idle")));

      // a restart with every Service and Node in place: start -> ready, then the re-check of
      // every load balancer until the cloud calls stop (the simulated cloud restarts empty too)
      Process first = controller[0];
      double peakBefore = ProcStats.peakRssKib(first.pid()) / 1024.0;
      double cpuBefore = ProcStats.cpuSeconds(first.pid());
      Contender.stop(first, Duration.ofSeconds(30));
      Contender.Started again = c.start(cmd, log, readyPort);
      controller[0] = again.process();
      Map<String, Object> restart = new LinkedHashMap<>();
      restart.put("startToReadySeconds", Timing.round(again.readySeconds()));
      restart.putAll(run.recheck(again.process()));
      report(phases, "restart", restart);
      cost = new PhaseCost(again.process().pid(), stats, auditLog, run.tailLimit());

      report(phases, "delete", run.deleteBurst(cost));
      // the same burst again, in a process that has done this work once: its JIT compiler has
      // settled, as in a controller that has been running (a Go controller compiles nothing)
      report(phases, "createAgain", run.createBurst(cost));
      report(phases, "deleteAgain", run.deleteBurst(cost));

      long pid = again.process().pid();
      r.put("peakRssMiB", Timing.round(Math.max(peakBefore, ProcStats.peakRssKib(pid) / 1024.0)));
      r.put("peakRssAfterRestartMiB", Timing.round(ProcStats.peakRssKib(pid) / 1024.0));
      r.put("cpuSeconds", Timing.round(cpuBefore + ProcStats.cpuSeconds(pid)));
      System.out.printf(
          "  peak RSS %.0f MiB, CPU %.1f s over the run%n",
          r.get("peakRssMiB"), r.get("cpuSeconds"));
      r.put(
          "completed",
          phases.values().stream()
              .map(p -> ((Map<?, ?>) p).get("completed"))
              .noneMatch(Boolean.FALSE::equals));
      return r;
    } finally {
      if (controller[0] != null) {
        Contender.stop(controller[0], Duration.ofSeconds(10));
      }
      if (keep) {
        System.out.printf("  run directory kept: %s%n", dir);
      } else {
        deleteTree(dir);
      }
    }
  }

  private static void report(Map<String, Object> phases, String name, Map<String, Object> m) {
    phases.put(name, m);
    System.out.printf("  %-12s %s%n", name, m);
  }

  private static void deleteTree(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory; left behind is harmless
    }
  }
}
