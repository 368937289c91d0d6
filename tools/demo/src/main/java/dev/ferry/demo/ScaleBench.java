package dev.ferry.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.controller.RunOptions;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import java.util.function.IntFunction;
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

  /**
   * The JVM flags of the controller's image (controller/pom.xml, Jib), with the chart's memory
   * limit standing in for the container's (the JVM sizes its heap from the cgroup limit).
   */
  static final String IMAGE_JVM_FLAGS =
      "-XX:MaxRAM=512m -XX:MaxRAMPercentage=24 -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
          + " -XX:CompileThresholdScaling=0.05"
          + " -XX:+UseStringDeduplication -XX:+ExitOnOutOfMemoryError"
          + " -Dio.netty.allocator.numDirectArenas=1 -Dio.netty.allocator.maxOrder=7"
          + " --enable-native-access=ALL-UNNAMED";

  /** The environment the controller's image sets for the JVM (controller/pom.xml, Jib). */
  static final Map<String, String> IMAGE_ENVIRONMENT = Map.of("MALLOC_ARENA_MAX", "2");

  private static final String NAMESPACE = "bench";
  // MB: the audit log must not rotate under the bench's reader, and the API server's writer rotates
  // it at 100 MB when no size is given, which a run of 10,000 Services and 5,000 Nodes passes
  private static final int AUDIT_LOG_MAX_MB = 1_000_000;
  private static final String NODE_PORTS = "20000-59999";
  // the cloud calls a node change makes: backend updates, or (upstream, after a failed update) an
  // ensure again
  private static final String[] NODE_CHANGE_KINDS = {"backends", "create"};
  // how often a phase reads the simulated cloud's /stats while waiting for its calls
  private static final Duration STATS_POLL = Duration.ofMillis(250);
  private static final int WARM_UP = 1000;
  private static final int WARM_UP_ROUNDS = 5;
  private static final String BENCH_AGENT = "ferry-bench";
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
      defaultValue = IMAGE_JVM_FLAGS,
      description = "JVM flags of Ferry's process (default: the image's: ${DEFAULT-VALUE}).")
  String jvmOptions;

  @Option(names = "--out", description = "Also write the figures as JSON to this file.")
  Path out;

  @Option(names = "--keep", description = "Keep the run directory (logs, audit log).")
  boolean keep;

  private Duration phaseLimit;
  private boolean warmedUp; // see warmUp
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** One controller under test: how to start it and recognise its requests. */
  record Contender(String name, String userAgentPrefix, List<String> extraArgs) {
    boolean ferry() {
      return name.equals("ferry");
    }
  }

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
    contenders.add(new Contender("ferry", "ferry/", List.of()));
    String upstream = null;
    if (compare != null) {
      if (!compare.equals("upstream") && !compare.equals("upstream-lifted")) {
        System.err.println("--compare: 'upstream' or 'upstream-lifted'");
        return 2;
      }
      upstream = build("hack/upstream-controller.sh");
      if (compare.equals("upstream")) {
        contenders.add(
            new Contender(
                "upstream",
                "upstream-service-controller",
                List.of("--kube-api-qps=20", "--kube-api-burst=30")));
      }
      contenders.add(
          new Contender(
              "upstream-unthrottled",
              "upstream-service-controller",
              List.of("--kube-api-qps=100000", "--kube-api-burst=100000")));
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
    runs.forEach((name, list) -> results.put(name, medians(list)));
    print(results, lat);
    if (rounds > 1) {
      printRounds(runs);
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
    Process controller = null;
    try (KubeApiServerProcess api =
            KubeApiServerProcess.start(
                cache,
                List.of(
                    // room for 10,000s of Services' NodePorts (ClusterIPs: a ServiceCIDR below)
                    "--service-node-port-range=" + NODE_PORTS,
                    "--audit-policy-file=" + policy,
                    "--audit-log-path=" + audit,
                    "--audit-log-maxsize=" + AUDIT_LOG_MAX_MB,
                    "--audit-log-format=json"));
        KubernetesClient client = benchClient(api)) {
      Path kubeconfig = api.writeKubeconfig(dir.resolve("kubeconfig"));
      client
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
          .create();
      serviceCidr(client);
      long t = System.nanoTime();
      parallel(nodes, i -> () -> client.nodes().resource(node(i)).create());
      System.out.printf("  %d Nodes created in %.1f s%n", nodes, secs(System.nanoTime() - t));
      warmUp(client);

      int[] ports = freePorts(2);
      int statsPort = ports[0];
      int readyPort = c.ferry() ? ports[1] : statsPort;
      List<String> cmd = new ArrayList<>();
      if (c.ferry()) {
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(jvmOptions.trim().split("\\s+")));
        if (Runtime.version().feature() >= 24) {
          cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.addAll(
            List.of(
                "-cp",
                System.getProperty("java.class.path"),
                "dev.ferry.controller.Main",
                "run",
                "--kubeconfig=" + kubeconfig,
                "--provider=sim",
                "--plugin-path=" + DemoMain.home().resolve("tools/sim-provider/target/plugin"),
                "--workers=" + workers,
                "--node-port-range=" + NODE_PORTS,
                "--no-leader-elect",
                "--metrics-address=127.0.0.1",
                "--metrics-port=" + readyPort,
                "--provider-setting=sim.latency=" + lat.toMillis() + "ms",
                "--provider-setting=sim.buckets=" + buckets,
                "--provider-setting=sim.stats-port=" + statsPort));
      } else {
        cmd.addAll(
            List.of(
                upstreamBinary,
                "--kubeconfig=" + kubeconfig,
                "--concurrent-service-syncs=" + workers,
                "--latency=" + lat.toMillis() + "ms",
                "--buckets=" + buckets,
                "--stats-address=127.0.0.1:" + statsPort,
                "-v=0"));
        cmd.addAll(c.extraArgs());
      }
      Path log = dir.resolve(c.name() + ".log");
      AtomicReference<Process> current = new AtomicReference<>();
      double readySeconds = start(c, cmd, log, readyPort, current);
      controller = current.get();
      r.put("startToReadySeconds", round(readySeconds));
      System.out.printf("  process start -> ready: %.2f s%n", readySeconds);
      Audit auditLog = new Audit(audit, c.userAgentPrefix());
      Stats stats = new Stats(statsPort);
      Process proc = current.get();

      Watch watch = new Watch(client);
      Phase phase = new Phase(proc.pid(), stats, auditLog, tailLimit());

      Bursts bursts = new Bursts(client, watch, stats, current, lat);

      // create
      Map<String, Object> create = createBurst(bursts, phase);
      phases.put("create", create);
      report("create", create);

      // a Node added, then removed: the time to the cloud's last backend call
      phases.put("nodeAdded", nodeChange("nodeAdded", phase, stats, proc, () -> addNode(client)));
      phases.put(
          "nodeRemoved", nodeChange("nodeRemoved", phase, stats, proc, () -> removeNode(client)));

      // a Ready flap on one Node: readiness does not change membership
      phase.begin();
      setReady(client, node(0).getMetadata().getName(), false);
      Thread.sleep(2000);
      setReady(client, node(0).getMetadata().getName(), true);
      Thread.sleep(2000);
      Map<String, Object> flap = phase.end();
      phases.put("readyFlap", flap);
      report("readyFlap", flap);

      // idle
      Duration idleFor = RunOptions.parseDuration(idle, "--idle");
      phase.begin();
      Thread.sleep(idleFor.toMillis());
      Map<String, Object> idlePhase = phase.end();
      idlePhase.put("seconds", idleFor.toSeconds());
      phases.put("idle", idlePhase);
      report("idle", idlePhase);

      // a restart with every Service and Node in place: start -> ready, then the re-check of
      // every load balancer until the cloud calls stop (the simulated cloud restarts empty too)
      double peakBefore = ProcStats.peakRssKib(proc.pid()) / 1024.0;
      double cpuBefore = ProcStats.cpuSeconds(proc.pid());
      proc.destroy();
      if (!proc.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        proc.destroyForcibly().waitFor();
      }
      Map<String, Object> restart = new LinkedHashMap<>();
      restart.put("startToReadySeconds", round(start(c, cmd, log, readyPort, current)));
      controller = current.get();
      proc = current.get();
      Process restarted = proc;
      long quietSince = System.nanoTime();
      long calls = -1;
      long deadline = System.nanoTime() + phaseLimit.toNanos();
      while (System.nanoTime() < deadline && restarted.isAlive()) {
        JsonNode now = stats.read();
        long made = Stats.sum(now, "kinds");
        long tried = made + Stats.sum(now, "throttled");
        if (tried != calls) {
          calls = tried;
          quietSince = System.nanoTime();
        } else if (System.nanoTime() - quietSince > 2_000_000_000L && made >= services) {
          break; // every load balancer checked (made again: the simulated cloud restarted empty)
        }
        Thread.sleep(100);
      }
      JsonNode after = stats.read();
      restart.put("recheckCloudCalls", Stats.sum(after, "kinds"));
      restart.put("recheckThrottledCalls", Stats.sum(after, "throttled"));
      restart.put(
          "secondsToLastCall",
          round(
              Math.max(0, after.path("lastCall").asLong() - restartedAtMillis(restarted))
                  / 1000.0));
      phases.put("restart", restart);
      report("restart", restart);
      phase = new Phase(proc.pid(), stats, auditLog, tailLimit());

      // delete every Service: until the last is gone (finalizers released)
      Map<String, Object> delete = deleteBurst(bursts, phase);
      phases.put("delete", delete);
      report("delete", delete);

      // the same burst again, in a process that has done this work once: its JIT compiler has
      // settled, as in a controller that has been running (a Go controller compiles nothing)
      Map<String, Object> createAgain = createBurst(bursts, phase);
      phases.put("createAgain", createAgain);
      report("createAgain", createAgain);
      Map<String, Object> deleteAgain = deleteBurst(bursts, phase);
      phases.put("deleteAgain", deleteAgain);
      report("deleteAgain", deleteAgain);

      r.put("peakRssMiB", round(Math.max(peakBefore, ProcStats.peakRssKib(proc.pid()) / 1024.0)));
      r.put("peakRssAfterRestartMiB", round(ProcStats.peakRssKib(proc.pid()) / 1024.0));
      r.put("cpuSeconds", round(cpuBefore + ProcStats.cpuSeconds(proc.pid())));
      System.out.printf(
          "  peak RSS %.0f MiB, CPU %.1f s over the run%n",
          r.get("peakRssMiB"), r.get("cpuSeconds"));
      r.put(
          "completed",
          phases.values().stream()
              .map(p -> ((Map<?, ?>) p).get("completed"))
              .noneMatch(Boolean.FALSE::equals));
      watch.close();
      return r;
    } finally {
      if (controller != null) {
        controller.destroy();
        if (!controller.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          controller.destroyForcibly();
        }
      }
      if (keep) {
        System.out.printf("  run directory kept: %s%n", dir);
      } else {
        deleteTree(dir);
      }
    }
  }

  /** Starts the controller; answers the seconds from process start to ready. */
  private double start(
      Contender c, List<String> cmd, Path log, int readyPort, AtomicReference<Process> current)
      throws IOException, InterruptedException {
    long started = System.nanoTime();
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    if (c.ferry()) {
      pb.environment().putAll(IMAGE_ENVIRONMENT);
    }
    Process p = pb.start();
    current.set(p);
    boolean up = waitFor(() -> !p.isAlive() || ready(readyPort), Duration.ofSeconds(120));
    if (!up || !p.isAlive()) {
      throw new IllegalStateException(
          c.name() + " did not become ready; its log: " + log + "\n" + tail(log));
    }
    return secs(System.nanoTime() - started);
  }

  private static long restartedAtMillis(Process p) {
    return p.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
  }

  /**
   * The least time {@code calls} calls of {@code kind} can take: their latency spread over the
   * workers, or, under token buckets that start full, the refill time of the slowest bucket they
   * draw from: (calls - capacity) / rate.
   */
  private double floor(Stats stats, String kind, long calls, Duration lat) {
    double floor = calls * (lat.toNanos() / 1e9) / workers;
    try {
      for (JsonNode b : stats.read().path("buckets")) {
        for (JsonNode k : b.path("kinds")) {
          if (k.asText().equals(kind)) {
            double refill =
                Math.max(0, calls - b.path("capacity").asDouble()) / b.path("perSecond").asDouble();
            floor = Math.max(floor, refill);
          }
        }
      }
    } catch (IOException e) {
      // no bucket figures: the latency floor
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return round(floor);
  }

  /** Under token buckets, waits until every bucket is full again, so each phase starts alike. */
  private void refillPause(Stats stats) throws IOException, InterruptedException {
    double longest = 0;
    for (JsonNode b : stats.read().path("buckets")) {
      longest = Math.max(longest, b.path("capacity").asDouble() / b.path("perSecond").asDouble());
    }
    if (longest > 0) {
      Thread.sleep((long) (longest * 1000) + 200);
    }
  }

  /**
   * kube-api-test gives the API server a /24 of ClusterIPs; a ServiceCIDR (GA since 1.33) adds a
   * /12, so 10,000s of Services fit.
   */
  private static void serviceCidr(KubernetesClient client) {
    client
        .resource(
            """
            apiVersion: networking.k8s.io/v1
            kind: ServiceCIDR
            metadata:
              name: ferry-bench
            spec:
              cidrs: ["10.96.0.0/12"]
            """)
        .create();
    // its Ready condition is kube-controller-manager's to set, and there is none here
    client
        .genericKubernetesResources("networking.k8s.io/v1", "ServiceCIDR")
        .withName("ferry-bench")
        .subresource("status")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
                + "\"reason\":\"Bench\",\"message\":\"\",\"lastTransitionTime\":\""
                + java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                + "\"}]}}");
  }

  /** What a create or delete burst works with: the same for each burst of one contender. */
  private record Bursts(
      KubernetesClient client,
      Watch watch,
      Stats stats,
      AtomicReference<Process> current,
      Duration lat) {}

  /** Creates every Service, 16 at a time; until each has an address. */
  private Map<String, Object> createBurst(Bursts b, Phase phase) throws Exception {
    b.watch().addressed.clear();
    refillPause(b.stats());
    phase.begin();
    long createStart = System.nanoTime();
    Map<String, Long> createdAt = new ConcurrentHashMap<>();
    parallel(
        services,
        i ->
            () -> {
              b.client().services().inNamespace(NAMESPACE).resource(service(i)).create();
              return createdAt.put(name(i), System.nanoTime());
            });
    double submitted = secs(System.nanoTime() - createStart);
    boolean created =
        waitFor(
            () -> b.watch().addressed.size() >= services || !b.current().get().isAlive(),
            phaseLimit);
    long createEnd = b.watch().lastAddressed();
    Map<String, Object> create = phase.end();
    create.put("completed", created && b.watch().addressed.size() >= services);
    create.put("seconds", round(secs(createEnd - createStart)));
    create.put("submittedSeconds", round(submitted)); // the bench's own creates, 16 at a time
    long[] perService =
        createdAt.entrySet().stream()
            .filter(e -> b.watch().addressed.containsKey(e.getKey()))
            .mapToLong(e -> b.watch().addressed.get(e.getKey()) - e.getValue())
            .sorted()
            .toArray();
    if (perService.length > 0) {
      create.put("p50Seconds", round(secs(perService[perService.length / 2])));
      create.put("p99Seconds", round(secs(perService[(int) Math.floor(perService.length * 0.99)])));
    }
    create.put("floorSeconds", floor(b.stats(), "create", services, b.lat()));
    return create;
  }

  /** Deletes every Service, 16 at a time; until the last is gone (finalizers released). */
  private Map<String, Object> deleteBurst(Bursts b, Phase phase) throws Exception {
    refillPause(b.stats());
    phase.begin();
    long deleteStart = System.nanoTime();
    parallel(
        services,
        i -> () -> b.client().services().inNamespace(NAMESPACE).withName(name(i)).delete());
    boolean deleted =
        waitFor(() -> b.watch().present() == 0 || !b.current().get().isAlive(), phaseLimit);
    long deleteEnd = b.watch().lastGone();
    Map<String, Object> delete = phase.end();
    delete.put("completed", deleted && b.watch().present() == 0);
    delete.put("seconds", round(secs(deleteEnd - deleteStart)));
    delete.put("floorSeconds", floor(b.stats(), "delete", services, b.lat()));
    return delete;
  }

  private Map<String, Object> nodeChange(
      String name, Phase phase, Stats stats, Process proc, Callable<Object> change)
      throws Exception {
    refillPause(stats);
    phase.begin();
    long before = stats.kinds(NODE_CHANGE_KINDS);
    long at = System.currentTimeMillis();
    change.call();
    // the cloud's /stats is served inside the controller's process: read it a few times a second,
    // not every 20 ms, or the reading costs the contender CPU the phase then counts (the time to
    // the last call is the cloud's own timestamp, so it does not depend on how often it is read)
    boolean done =
        waitFor(
            () -> stats.kinds(NODE_CHANGE_KINDS) >= before + services || !proc.isAlive(),
            phaseLimit,
            STATS_POLL);
    // calls that would follow the expected ones: phase.end() waits two seconds at least
    Map<String, Object> m = phase.end();
    // the last call of the kinds the phase waits for: a read of the controller's own (its leak
    // sweep's list, on its own clock) is not the node change's
    long last = Stats.last(stats.read(), NODE_CHANGE_KINDS);
    m.put("completed", done);
    m.put("secondsToLastCall", round(Math.max(0, last - at) / 1000.0));
    m.put(
        "floorSeconds",
        floor(stats, "backends", services, RunOptions.parseDuration(latency, "--latency")));
    report(name, m);
    return m;
  }

  /**
   * How long a phase's end waits at most for the controller's writes to stop: 15 s, or a second per
   * 100 Services if longer. A node change at 10,000 Services trails one Event per Service, which on
   * this machine took more than 15 s to write; cut at 15 s, the rest counted as the next phase's (a
   * Ready flap's).
   */
  private Duration tailLimit() {
    return Duration.ofSeconds(Math.max(15, services / 100));
  }

  private void report(String name, Map<String, Object> m) {
    System.out.printf("  %-12s %s%n", name, m);
  }

  private static KubernetesClient benchClient(KubeApiServerProcess api) {
    Config base = api.client().getConfiguration();
    // a refused write fails the run at once instead of being retried for minutes
    Config config =
        new ConfigBuilder(base).withUserAgent(BENCH_AGENT).withRequestRetryBackoffLimit(1).build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /**
   * Once per bench, before the first controller starts: creates and deletes up to {@value #WARM_UP}
   * Services with no controller running. The bench's own JVM compiles its create and watch paths
   * during the first burst it drives, and on two shared cores that CPU is taken from the API
   * server, so without this the first contender's create burst ran slower than the others' (the
   * bench took 10.7 s of CPU during Ferry's create burst, 2.0 s during the third contender's).
   */
  private void warmUp(KubernetesClient client) throws Exception {
    if (warmedUp) {
      return;
    }
    warmedUp = true;
    // The bench's own JVM compiles its create and watch paths while it warms up; until that
    // settles it takes CPU from the machine the first contender shares. Rounds go on while one
    // still compiles for more than a quarter second (at most five).
    int n = Math.min(services, WARM_UP);
    long self = ProcessHandle.current().pid();
    for (int round = 1; round <= WARM_UP_ROUNDS; round++) {
      long t = System.nanoTime();
      double jit = ProcStats.jitCpuSeconds(self);
      try (Watch w = new Watch(client)) {
        parallel(
            n, i -> () -> client.services().inNamespace(NAMESPACE).resource(service(i)).create());
        waitFor(() -> w.present() >= n, phaseLimit);
        parallel(n, i -> () -> client.services().inNamespace(NAMESPACE).withName(name(i)).delete());
        waitFor(() -> w.present() == 0, phaseLimit);
      }
      jit = ProcStats.jitCpuSeconds(self) - jit;
      System.out.printf(
          "  bench warm-up %d: %d Services created and deleted, no controller, in %.1f s (the"
              + " bench's JIT %.2f s)%n",
          round, n, secs(System.nanoTime() - t), jit);
      if (jit < 0.25) {
        break;
      }
    }
  }

  private static String name(int i) {
    return String.format(Locale.ROOT, "svc-%05d", i);
  }

  static Node node(int i) {
    String name = String.format(Locale.ROOT, "node-%05d", i);
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("kubernetes.io/hostname", name)
        .addToLabels("topology.kubernetes.io/zone", "zone-" + (char) ('a' + i % 3))
        .endMetadata()
        .withNewSpec()
        .withProviderID("sim://" + name)
        .endSpec()
        .withNewStatus()
        .addNewAddress()
        .withType("InternalIP")
        .withAddress("10.1." + (i / 250) % 250 + "." + (i % 250 + 1))
        .endAddress()
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .withReason("KubeletReady")
        .endCondition()
        .endStatus()
        .build();
  }

  private Object addNode(KubernetesClient client) {
    return client.nodes().resource(node(nodes)).create();
  }

  private Object removeNode(KubernetesClient client) {
    return client.nodes().withName(node(nodes).getMetadata().getName()).delete();
  }

  private static void setReady(KubernetesClient client, String node, boolean ready) {
    client
        .nodes()
        .withName(node)
        .subresource("status")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\""
                + (ready ? "True" : "False")
                + "\",\"reason\":\""
                + (ready ? "KubeletReady" : "KubeletNotReady")
                + "\"}]}}");
  }

  private static Service service(int i) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name(i))
        .withNamespace(NAMESPACE)
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
        .addToSelector("app", name(i))
        .addNewPort()
        .withName("http")
        .withProtocol("TCP")
        .withPort(80)
        .withNewTargetPort(8080)
        .endPort()
        .endSpec()
        .build();
  }

  /** Runs {@code count} tasks on 16 threads at most; the first failure is thrown. */
  private static void parallel(int count, IntFunction<Callable<Object>> task) throws Exception {
    Semaphore gate = new Semaphore(16);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Object>> all = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        Callable<Object> t = task.apply(i);
        gate.acquire();
        all.add(
            pool.submit(
                () -> {
                  try {
                    return t.call();
                  } finally {
                    gate.release();
                  }
                }));
      }
      for (Future<Object> f : all) {
        f.get();
      }
    }
  }

  private boolean ready(int port) {
    try {
      return http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                      .timeout(Duration.ofSeconds(2))
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static boolean waitFor(BooleanSupplier condition, Duration limit)
      throws InterruptedException {
    return waitFor(condition, limit, Duration.ofMillis(20));
  }

  private static boolean waitFor(BooleanSupplier condition, Duration limit, Duration poll)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(poll.toMillis());
    }
    return condition.getAsBoolean();
  }

  /**
   * {@code n} distinct ports free now, below the range the system hands out for outgoing
   * connections, and all held open until each is known. CI once failed with Ferry's metrics port
   * "already in use": a port from {@code new ServerSocket(0)} is an ephemeral one, which, once
   * closed, the next outgoing connection on this busy machine (the bench, the API server, etcd) may
   * take as its own before the controller binds it; and one at a time, two could be the same.
   */
  static int[] freePorts(int n) throws IOException {
    int below = ephemeralLow();
    List<ServerSocket> held = new ArrayList<>();
    try {
      int[] ports = new int[n];
      for (int i = 0, tries = 0; i < n; tries++) {
        if (tries > 1_000) {
          throw new IOException("no free port below " + below + " after 1,000 tries");
        }
        int port =
            below > 11_000 ? 10_000 + ThreadLocalRandom.current().nextInt(below - 10_000) : 0;
        try {
          ServerSocket s = new ServerSocket(port);
          held.add(s);
          ports[i++] = s.getLocalPort();
        } catch (IOException taken) {
          // someone's: try another
        }
      }
      return ports;
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
  }

  /** The first port of the system's range for outgoing connections (Linux), else 32768. */
  private static int ephemeralLow() {
    try {
      // read by lines: Files.readString answers "3" for this file (procfs reports size 0)
      String range =
          Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }

  private static double secs(long nanos) {
    return nanos / 1e9;
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static void deleteTree(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory; left behind is harmless
    }
  }

  /**
   * Each figure's median over the rounds, figure by figure (so one row's median may come from
   * another round than the next row's); a phase counts as completed only if it did every round.
   */
  @SuppressWarnings("unchecked")
  static Map<String, Object> medians(List<Map<String, Object>> rounds) {
    return (Map<String, Object>) median(new ArrayList<>(rounds));
  }

  private static Object median(List<Object> values) {
    Object first = values.get(0);
    if (values.size() == 1) {
      return first;
    }
    if (first instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Object key : m.keySet()) {
        List<Object> each = new ArrayList<>();
        values.forEach(v -> each.add(v instanceof Map<?, ?> vm ? vm.get(key) : null));
        out.put((String) key, median(each));
      }
      return out;
    }
    if (values.stream().allMatch(v -> v instanceof Number)) {
      List<Object> sorted = new ArrayList<>(values);
      sorted.sort(Comparator.comparingDouble(v -> ((Number) v).doubleValue()));
      int mid = sorted.size() / 2;
      return sorted.size() % 2 == 1
          ? sorted.get(mid)
          : round(
              (((Number) sorted.get(mid - 1)).doubleValue()
                      + ((Number) sorted.get(mid)).doubleValue())
                  / 2);
    }
    if (first instanceof Boolean) {
      return values.stream().allMatch(Boolean.TRUE::equals);
    }
    return first;
  }

  /**
   * One row of the table: a phase's figure, and whether {@code --rounds} lists it round by round.
   */
  private record Figure(String phase, String key, String label, boolean byRound) {
    /** This figure in one controller's results, or null when its phase did not run. */
    Object in(Map<String, Object> results) {
      Object p = ((Map<?, ?>) results.get("phases")).get(phase);
      return p == null ? null : ((Map<?, ?>) p).get(key);
    }

    /** Whether this figure's phase ran out of time in {@code results}. */
    boolean unfinished(Map<String, Object> results) {
      Object p = ((Map<?, ?>) results.get("phases")).get(phase);
      return p != null && Boolean.FALSE.equals(((Map<?, ?>) p).get("completed"));
    }
  }

  private static final List<Figure> FIGURES =
      List.of(
          new Figure("create", "seconds", "create: all addressed (s)", true),
          new Figure("create", "submittedSeconds", "create: the bench's creates took (s)", false),
          new Figure("create", "p50Seconds", "create: per Service p50 (s)", false),
          new Figure("create", "p99Seconds", "create: per Service p99 (s)", false),
          new Figure("nodeAdded", "secondsToLastCall", "node added -> last call (s)", true),
          new Figure("nodeRemoved", "secondsToLastCall", "node removed -> last call (s)", true),
          new Figure("restart", "startToReadySeconds", "restart: start -> ready (s)", false),
          new Figure(
              "restart", "secondsToLastCall", "restart: start -> last re-check call (s)", false),
          new Figure("restart", "recheckCloudCalls", "restart: re-check cloud calls", false),
          new Figure("delete", "seconds", "delete: all gone (s)", true),
          new Figure("createAgain", "seconds", "create again: all addressed (s)", true),
          new Figure("deleteAgain", "seconds", "delete again: all gone (s)", true),
          new Figure("create", "cloudCalls", "create: cloud calls", false),
          new Figure("create", "throttledCalls", "create: throttled calls", false),
          new Figure("create", "apiWrites", "create: API writes", false),
          new Figure("create", "apiRequests", "create: API requests", false),
          new Figure("nodeAdded", "cloudCalls", "node added: cloud calls", false),
          new Figure("nodeAdded", "throttledCalls", "node added: throttled", false),
          new Figure("nodeAdded", "apiWrites", "node added: API writes", false),
          new Figure("readyFlap", "cloudCalls", "Ready flap: cloud calls", false),
          new Figure("readyFlap", "apiWrites", "Ready flap: API writes", false),
          new Figure("idle", "cloudCalls", "idle: cloud calls", false),
          new Figure("idle", "apiWrites", "idle: API writes", false),
          new Figure("delete", "cloudCalls", "delete: cloud calls", false),
          new Figure("delete", "throttledCalls", "delete: throttled calls", false),
          new Figure("delete", "apiWrites", "delete: API writes", false),
          new Figure("create", "cpuSeconds", "create: CPU (s)", true),
          new Figure("create", "jitCpuSeconds", "create: of which JIT compiling (s)", false),
          new Figure("nodeAdded", "cpuSeconds", "node added: CPU (s)", false),
          new Figure("nodeRemoved", "cpuSeconds", "node removed: CPU (s)", false),
          new Figure("delete", "cpuSeconds", "delete: CPU (s)", false),
          new Figure("create", "cpuPerBenchCpu", "create: CPU per second of the bench's", true),
          new Figure("createAgain", "cpuSeconds", "create again: CPU (s)", true),
          new Figure(
              "createAgain", "jitCpuSeconds", "create again: of which JIT compiling (s)", false),
          new Figure(
              "createAgain", "cpuPerBenchCpu", "create again: CPU per second of the bench's", true),
          new Figure("deleteAgain", "cpuSeconds", "delete again: CPU (s)", false),
          new Figure("create", "clusterCpuSeconds", "create: API server + etcd CPU (s)", false),
          new Figure(
              "nodeAdded", "clusterCpuSeconds", "node added: API server + etcd CPU (s)", false),
          new Figure("delete", "clusterCpuSeconds", "delete: API server + etcd CPU (s)", false),
          new Figure("create", "benchCpuSeconds", "create: the bench's CPU (s)", false),
          new Figure("create", "benchJitCpuSeconds", "create: of which the bench's JIT (s)", false),
          new Figure("create", "idleCpuSeconds", "create: CPU left idle (s)", false));

  /** The timed figures round by round, under the medians. */
  private static void printRounds(Map<String, List<Map<String, Object>>> runs) {
    System.out.println("\nround by round (the table above: each figure's median):");
    for (Figure f : FIGURES) {
      if (!f.byRound()) {
        continue;
      }
      StringBuilder line = new StringBuilder("  " + f.label() + ":");
      runs.forEach(
          (name, list) ->
              line.append(' ')
                  .append(name)
                  .append(' ')
                  .append(list.stream().map(f::in).map(String::valueOf).toList()));
      System.out.println(line);
    }
  }

  /** The figures side by side, with upstream-without-limit ÷ Ferry for the times. */
  private void print(Map<String, Map<String, Object>> results, Duration lat) {
    List<String> names = new ArrayList<>(results.keySet());
    List<String[]> rows = new ArrayList<>();
    rows.add(row("start -> ready (s)", results, names, r -> r.get("startToReadySeconds")));
    for (Figure f : FIGURES) {
      rows.add(
          row(
              f.label(),
              results,
              names,
              // a phase that ran out of time: its figures are what it reached
              r ->
                  f.unfinished(r) && f.key().contains("econds")
                      ? "unfinished after " + phaseTimeout
                      : f.in(r)));
    }
    rows.add(row("peak RSS (MiB)", results, names, r -> r.get("peakRssMiB")));
    rows.add(row("CPU over the run (s)", results, names, r -> r.get("cpuSeconds")));
    System.out.printf(
        "%n%d Services x %d Nodes, %d ms per cloud call, %d workers, buckets %s%s%n",
        services,
        nodes,
        lat.toMillis(),
        workers,
        buckets,
        rounds > 1 ? "; medians of " + rounds + " rounds" : "");
    List<String> header = new ArrayList<>(List.of(""));
    header.addAll(names);
    if (names.contains("upstream-unthrottled")) {
      header.add("upstream-unthrottled / ferry");
    }
    StringBuilder sb = new StringBuilder("| " + String.join(" | ", header) + " |\n|");
    sb.append("---|".repeat(header.size())).append('\n');
    for (String[] row : rows) {
      sb.append("| ").append(String.join(" | ", row)).append(" |\n");
    }
    System.out.print(sb);
  }

  private static String[] row(
      String label,
      Map<String, Map<String, Object>> results,
      List<String> names,
      java.util.function.Function<Map<String, Object>, Object> value) {
    List<String> cells = new ArrayList<>(List.of(label));
    for (String n : names) {
      Object v = value.apply(results.get(n));
      cells.add(v == null ? "-" : String.valueOf(v));
    }
    if (names.contains("upstream-unthrottled")) {
      Object f = value.apply(results.get("ferry"));
      Object u = value.apply(results.get("upstream-unthrottled"));
      if (f instanceof Number fn && u instanceof Number un && fn.doubleValue() > 0) {
        cells.add(String.format(Locale.ROOT, "%.2f", un.doubleValue() / fn.doubleValue()));
      } else {
        cells.add("-");
      }
    }
    return cells.toArray(String[]::new);
  }

  /** What a phase cost: cloud calls, throttled calls, the controller's API requests, its CPU. */
  private static final class Phase {
    private final Stats stats;
    private final Audit audit;
    // CPU clocks read at the phase's start and end, in the order they are reported
    private final Map<String, DoubleSupplier> clocks = new LinkedHashMap<>();
    private final Map<String, Double> atStart = new HashMap<>();
    private final Duration tailLimit;
    private JsonNode startStats;

    Phase(long pid, Stats stats, Audit audit, Duration tailLimit) {
      this.stats = stats;
      this.audit = audit;
      this.tailLimit = tailLimit;
      long self = ProcessHandle.current().pid();
      clocks.put("cpuSeconds", () -> ProcStats.cpuSeconds(pid));
      // a JVM's JIT compiler threads (a Go binary has none): warming up, not per-reconcile work
      clocks.put("jitCpuSeconds", () -> ProcStats.jitCpuSeconds(pid));
      // what serving the phase cost the API server and etcd (the bench's own requests included):
      // on a machine they share, a controller's requests slow everyone's
      clocks.put("clusterCpuSeconds", ProcStats::clusterCpuSeconds);
      // the bench's own share (its creates, its watch) and what no process used
      clocks.put("benchCpuSeconds", () -> ProcStats.cpuSeconds(self));
      clocks.put("benchJitCpuSeconds", () -> ProcStats.jitCpuSeconds(self));
      clocks.put("idleCpuSeconds", ProcStats::idleCpuSeconds);
    }

    void begin() throws IOException, InterruptedException {
      audit.drain(); // requests so far belong to earlier phases
      startStats = stats.read();
      clocks.forEach((name, clock) -> atStart.put(name, clock.getAsDouble()));
    }

    Map<String, Object> end() throws IOException, InterruptedException {
      // a controller's events trail its last cloud call (queued, written after): they belong to
      // the phase that caused them, so it ends when the audit log (written as each request
      // completes) has been still for two seconds, longer than Ferry holds an Event (a second and
      // a tick of its timing wheel); at most tailLimit (upstream at its client limit writes
      // throughout)
      audit.awaitQuiet(Duration.ofSeconds(2), tailLimit);
      JsonNode now = stats.read();
      Audit.Counts api = audit.drain();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("cloudCalls", Stats.sum(now, "kinds") - Stats.sum(startStats, "kinds"));
      m.put("throttledCalls", Stats.sum(now, "throttled") - Stats.sum(startStats, "throttled"));
      m.put("cloudCallsByMethod", Stats.diff(now, startStats, "calls"));
      m.put("apiRequests", api.requests());
      m.put("apiWrites", api.writes());
      m.put("apiWritesByResource", api.writesByResource());
      // JIT threads come and go: a clock can read less at the end than at the start
      clocks.forEach(
          (name, clock) ->
              m.put(name, round(Math.max(0, clock.getAsDouble() - atStart.get(name)))));
      // the controller's CPU per CPU second of the bench's, whose work in a burst is the same
      // beside either controller (its creates, and its watch seeing each controller's two writes
      // per Service): on this shared machine a CPU second buys more or less work from one minute
      // to the next, and this quotient moves far less than either figure
      double bench = (double) m.get("benchCpuSeconds");
      m.put("cpuPerBenchCpu", bench > 0 ? round((double) m.get("cpuSeconds") / bench) : null);
      return m;
    }
  }

  /** The simulated cloud's {@code /stats}. */
  private final class Stats {
    private final int port;

    Stats(int port) {
      this.port = port;
    }

    JsonNode read() throws IOException, InterruptedException {
      String body =
          http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stats"))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      return JSON.readTree(body);
    }

    /** The calls made so far of these kinds, from one read; -1 when the cloud did not answer. */
    long kinds(String... kinds) {
      try {
        JsonNode counts = read().path("kinds");
        long n = 0;
        for (String k : kinds) {
          n += counts.path(k).asLong(0);
        }
        return n;
      } catch (IOException e) {
        return -1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return -1;
      }
    }

    /** The time (epoch ms) of the last call of these kinds in a reading; 0 if none was made. */
    static long last(JsonNode stats, String... kinds) {
      long last = 0;
      for (String k : kinds) {
        last = Math.max(last, stats.path("lastByKind").path(k).asLong(0));
      }
      return last;
    }

    static long sum(JsonNode stats, String field) {
      long n = 0;
      for (JsonNode v : stats.path(field)) {
        n += v.asLong();
      }
      return n;
    }

    static Map<String, Long> diff(JsonNode now, JsonNode before, String field) {
      Map<String, Long> d = new java.util.TreeMap<>();
      now.path(field)
          .fields()
          .forEachRemaining(
              e -> {
                long delta = e.getValue().asLong() - before.path(field).path(e.getKey()).asLong(0);
                if (delta != 0) {
                  d.put(e.getKey(), delta);
                }
              });
      return d;
    }
  }

  /** The API server's audit log, read on from where the last read stopped. */
  private static final class Audit {
    record Counts(long requests, long writes, Map<String, Long> writesByResource) {}

    private final Path file;
    private final String agentPrefix;
    private long offset;

    Audit(Path file, String agentPrefix) {
      this.file = file;
      this.agentPrefix = agentPrefix;
    }

    /** Returns once the log has not grown for {@code quiet}, or after {@code limit}. */
    void awaitQuiet(Duration quiet, Duration limit) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + limit.toNanos();
      long size = -1;
      long stillSince = System.nanoTime();
      while (System.nanoTime() < deadline) {
        long now = Files.exists(file) ? Files.size(file) : 0;
        if (now != size) {
          size = now;
          stillSince = System.nanoTime();
        } else if (System.nanoTime() - stillSince >= quiet.toNanos()) {
          return;
        }
        Thread.sleep(100);
      }
    }

    Counts drain() throws IOException {
      if (!Files.exists(file)) {
        return new Counts(0, 0, Map.of());
      }
      long requests = 0;
      long writes = 0;
      Map<String, Long> byResource = new java.util.TreeMap<>();
      // streamed line by line: a large run's log grows past what one array can hold
      try (var channel = java.nio.channels.FileChannel.open(file)) {
        if (channel.size() < offset) {
          // rotated or cut: what was read from here on would be a count from nowhere
          throw new IllegalStateException(
              "the API server's audit log " + file + " shrank below what was read; no count");
        }
        channel.position(offset);
        var in =
            new java.io.BufferedInputStream(java.nio.channels.Channels.newInputStream(channel));
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream(2048);
        int b;
        while ((b = in.read()) != -1) {
          if (b != '\n') {
            line.write(b);
            continue;
          }
          offset += line.size() + 1; // a line still being written is read next time
          JsonNode e = JSON.readTree(line.toByteArray());
          line.reset();
          if (!e.path("userAgent").asText("").startsWith(agentPrefix)) {
            continue;
          }
          requests++;
          String verb = e.path("verb").asText();
          if (List.of("create", "update", "patch", "delete", "deletecollection").contains(verb)) {
            writes++;
            JsonNode ref = e.path("objectRef");
            String resource =
                ref.path("resource").asText("?")
                    + (ref.hasNonNull("subresource") ? "/" + ref.path("subresource").asText() : "");
            byResource.merge(verb + " " + resource, 1L, Long::sum);
          }
        }
      }
      return new Counts(requests, writes, byResource);
    }
  }

  /** When each Service first showed an address, and when the last one went away. */
  private static final class Watch implements AutoCloseable {
    final Map<String, Long> addressed = new ConcurrentHashMap<>();
    private final Map<String, Boolean> present = new ConcurrentHashMap<>();
    private volatile long lastAddressed;
    private volatile long lastGone;
    private final SharedIndexInformer<Service> informer;

    Watch(KubernetesClient client) {
      informer =
          client
              .services()
              .inNamespace(NAMESPACE)
              .inform(
                  new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Service s) {
                      present.put(s.getMetadata().getName(), true);
                      seen(s);
                    }

                    @Override
                    public void onUpdate(Service old, Service s) {
                      seen(s);
                    }

                    @Override
                    public void onDelete(Service s, boolean unknown) {
                      present.remove(s.getMetadata().getName());
                      lastGone = System.nanoTime();
                    }
                  });
    }

    private void seen(Service s) {
      if (s.getStatus() != null
          && s.getStatus().getLoadBalancer() != null
          && s.getStatus().getLoadBalancer().getIngress() != null
          && !s.getStatus().getLoadBalancer().getIngress().isEmpty()) {
        long now = System.nanoTime();
        if (addressed.putIfAbsent(s.getMetadata().getName(), now) == null) {
          lastAddressed = now;
        }
      }
    }

    int present() {
      return present.size();
    }

    long lastAddressed() {
      return lastAddressed;
    }

    long lastGone() {
      return lastGone;
    }

    @Override
    public void close() {
      informer.close();
    }
  }

  /** A process's CPU time and peak RSS, from /proc. */
  static final class ProcStats {
    private ProcStats() {}

    static double cpuSeconds(long pid) {
      try {
        return statCpuSeconds(Path.of("/proc", Long.toString(pid), "stat"));
      } catch (IOException | RuntimeException e) {
        return 0;
      }
    }

    /** utime + stime of a process's or thread's {@code stat} file. */
    private static double statCpuSeconds(Path stat) throws IOException {
      String s = Files.readString(stat);
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      // fields 14 and 15 (utime, stime) are the 12th and 13th after the command name
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }

    /** CPU of the process's JIT compiler threads (HotSpot names them "C1/C2 CompilerThread"). */
    static double jitCpuSeconds(long pid) {
      double sum = 0;
      try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
        for (Path task : (Iterable<Path>) tasks::iterator) {
          try {
            if (Files.readString(task.resolve("comm")).contains("CompilerThre")) {
              sum += statCpuSeconds(task.resolve("stat"));
            }
          } catch (IOException | RuntimeException e) {
            // the thread ended (C1/C2 threads come and go with
            // -XX:+UseDynamicNumberOfCompilerThreads)
          }
        }
      } catch (IOException | RuntimeException e) {
        return 0;
      }
      return sum;
    }

    /** CPU of the kube-apiserver and etcd this bench started (its child processes). */
    static double clusterCpuSeconds() {
      return ProcessHandle.current()
          .descendants()
          .filter(
              p -> {
                String cmd = p.info().command().orElse("");
                return cmd.endsWith("/kube-apiserver") || cmd.endsWith("/etcd");
              })
          .mapToDouble(p -> cpuSeconds(p.pid()))
          .sum();
    }

    /** The machine's idle and I/O-wait CPU time, all cores summed ({@code /proc/stat}). */
    static double idleCpuSeconds() {
      try {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        return (Long.parseLong(f[4]) + Long.parseLong(f[5])) / 100.0;
      } catch (IOException | RuntimeException e) {
        return 0;
      }
    }

    static long peakRssKib(long pid) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
          if (line.startsWith("VmHWM:")) {
            return Long.parseLong(line.replaceAll("[^0-9]", ""));
          }
        }
      } catch (IOException | RuntimeException e) {
        // gone
      }
      return 0;
    }
  }
}
