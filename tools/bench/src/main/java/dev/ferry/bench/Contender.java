package dev.ferry.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One controller under test: how to start it and recognise its requests. Ferry runs from this JVM's
 * class path with the image's JVM flags and environment; upstream's service controller runs as the
 * binary {@code hack/upstream-controller.sh} builds, against the same simulated cloud.
 */
record Contender(String name, String userAgentPrefix, List<String> extraArgs) {

  /**
   * The JVM flags of the controller's image (cli/pom.xml, Jib), with the chart's memory limit
   * standing in for the container's (the JVM sizes its heap from the cgroup limit).
   */
  static final String IMAGE_JVM_FLAGS =
      "-XX:MaxRAM=512m -XX:MaxRAMPercentage=24 -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
          + " -XX:CompileThresholdScaling=0.05"
          + " -XX:+UseStringDeduplication -XX:+ExitOnOutOfMemoryError"
          + " -Dio.netty.allocator.numDirectArenas=1 -Dio.netty.allocator.maxOrder=7"
          + " --enable-native-access=ALL-UNNAMED";

  /** The environment the controller's image sets for the JVM (cli/pom.xml, Jib). */
  static final Map<String, String> IMAGE_ENVIRONMENT = Map.of("MALLOC_ARENA_MAX", "2");

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  static Contender ferry() {
    return new Contender("ferry", "ferry/", List.of());
  }

  /** Upstream's service controller at its client defaults (QPS 20, burst 30). */
  static Contender upstream() {
    return new Contender(
        "upstream",
        "upstream-service-controller",
        List.of("--kube-api-qps=20", "--kube-api-burst=30"));
  }

  /** Upstream's service controller with its client rate limit lifted: the peer at its best. */
  static Contender upstreamLifted() {
    return new Contender(
        "upstream-unthrottled",
        "upstream-service-controller",
        List.of("--kube-api-qps=100000", "--kube-api-burst=100000"));
  }

  boolean isFerry() {
    return name.equals("ferry");
  }

  /** What one run asks of the controller. */
  record Settings(
      Path kubeconfig,
      int workers,
      Duration latency,
      String buckets,
      int statsPort,
      int readyPort,
      String jvmOptions,
      Path simPlugin,
      String upstreamBinary) {}

  /** The command line that starts this controller. */
  List<String> command(Settings s) {
    List<String> cmd = new ArrayList<>();
    if (isFerry()) {
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(Arrays.asList(s.jvmOptions().trim().split("\\s+")));
      if (Runtime.version().feature() >= 24) {
        cmd.add("--sun-misc-unsafe-memory-access=allow");
      }
      cmd.addAll(
          List.of(
              "-cp",
              System.getProperty("java.class.path"),
              "dev.ferry.cli.Main",
              "run",
              "--kubeconfig=" + s.kubeconfig(),
              "--provider=sim",
              "--plugin-path=" + s.simPlugin(),
              "--workers=" + s.workers(),
              "--node-port-range=" + Workload.NODE_PORTS,
              "--no-leader-elect",
              "--metrics-address=127.0.0.1",
              "--metrics-port=" + s.readyPort(),
              "--provider-setting=sim.latency=" + s.latency().toMillis() + "ms",
              "--provider-setting=sim.buckets=" + s.buckets(),
              "--provider-setting=sim.stats-port=" + s.statsPort()));
    } else {
      cmd.addAll(
          List.of(
              s.upstreamBinary(),
              "--kubeconfig=" + s.kubeconfig(),
              "--concurrent-service-syncs=" + s.workers(),
              "--latency=" + s.latency().toMillis() + "ms",
              "--buckets=" + s.buckets(),
              "--stats-address=127.0.0.1:" + s.statsPort(),
              "-v=0"));
      cmd.addAll(extraArgs);
    }
    return cmd;
  }

  /** A started controller, and the seconds from its process start to ready. */
  record Started(Process process, double readySeconds) {}

  /** Starts the controller, its output appended to {@code log}; returns once it is ready. */
  Started start(List<String> cmd, Path log, int readyPort)
      throws IOException, InterruptedException {
    long started = System.nanoTime();
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    if (isFerry()) {
      pb.environment().putAll(IMAGE_ENVIRONMENT);
    }
    Process p = pb.start();
    boolean up = Timing.waitFor(() -> !p.isAlive() || ready(readyPort), Duration.ofSeconds(120));
    if (!up || !p.isAlive()) {
      p.destroyForcibly();
      throw new IllegalStateException(
          name + " did not become ready; its log: " + log + "\n" + tail(log));
    }
    return new Started(p, Timing.secs(System.nanoTime() - started));
  }

  /** Stops the controller: SIGTERM, then SIGKILL after {@code grace}. */
  static void stop(Process p, Duration grace) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
      p.destroyForcibly().waitFor();
    }
  }

  static long startedAtMillis(Process p) {
    return p.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
  }

  private static boolean ready(int port) {
    try {
      return HTTP.send(
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

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }
}
