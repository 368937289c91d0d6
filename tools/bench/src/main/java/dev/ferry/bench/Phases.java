package dev.ferry.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The phases of one controller's run, each timed from the bench's write to what it waits for and
 * costed by a {@link PhaseCost}: a create burst, a Node added and removed, a Ready flap, idle, a
 * restart, a delete burst. Every wait is bounded by the phase limit.
 */
final class Phases {
  // the cloud calls a node change makes: backend updates, or (upstream, after a failed update) an
  // ensure again
  private static final String[] NODE_CHANGE_KINDS = {"backends", "create"};
  // how often a phase reads the simulated cloud's /stats while waiting for its calls
  private static final Duration STATS_POLL = Duration.ofMillis(250);

  private final KubernetesClient client;
  private final AddressWatch watch;
  private final CloudStats stats;
  private final Supplier<Process> controller;
  private final Duration latency;
  private final int services;
  private final int workers;
  private final Duration phaseLimit;

  Phases(
      KubernetesClient client,
      AddressWatch watch,
      CloudStats stats,
      Supplier<Process> controller,
      Duration latency,
      int services,
      int workers,
      Duration phaseLimit) {
    this.client = client;
    this.watch = watch;
    this.stats = stats;
    this.controller = controller;
    this.latency = latency;
    this.services = services;
    this.workers = workers;
    this.phaseLimit = phaseLimit;
  }

  /**
   * How long a phase's end waits at most for the controller's writes to stop: 15 s, or a second per
   * 100 Services if longer. A node change at 10,000 Services trails one Event per Service, which on
   * this machine took more than 15 s to write; cut at 15 s, the rest counted as the next phase's (a
   * Ready flap's).
   */
  Duration tailLimit() {
    return Duration.ofSeconds(Math.max(15, services / 100));
  }

  /** Creates every Service, 16 at a time; until each has an address. */
  Map<String, Object> createBurst(PhaseCost phase) throws Exception {
    watch.addressed.clear();
    stats.refillPause();
    phase.begin();
    long createStart = System.nanoTime();
    Map<String, Long> createdAt = new ConcurrentHashMap<>();
    Workload.parallel(
        services,
        i ->
            () -> {
              client
                  .services()
                  .inNamespace(Workload.NAMESPACE)
                  .resource(Workload.service(i))
                  .create();
              return createdAt.put(Workload.name(i), System.nanoTime());
            });
    double submitted = Timing.secs(System.nanoTime() - createStart);
    boolean created =
        Timing.waitFor(
            () -> watch.addressed.size() >= services || !controller.get().isAlive(), phaseLimit);
    long createEnd = watch.lastAddressed();
    Map<String, Object> create = phase.end();
    create.put("completed", created && watch.addressed.size() >= services);
    create.put("seconds", Timing.round(Timing.secs(createEnd - createStart)));
    create.put("submittedSeconds", Timing.round(submitted)); // the bench's own, 16 at a time
    long[] perService =
        createdAt.entrySet().stream()
            .filter(e -> watch.addressed.containsKey(e.getKey()))
            .mapToLong(e -> watch.addressed.get(e.getKey()) - e.getValue())
            .sorted()
            .toArray();
    if (perService.length > 0) {
      create.put("p50Seconds", Timing.round(Timing.secs(perService[perService.length / 2])));
      create.put(
          "p99Seconds",
          Timing.round(Timing.secs(perService[(int) Math.floor(perService.length * 0.99)])));
    }
    create.put("floorSeconds", stats.floor("create", services, latency, workers));
    return create;
  }

  /** Deletes every Service, 16 at a time; until the last is gone (finalizers released). */
  Map<String, Object> deleteBurst(PhaseCost phase) throws Exception {
    stats.refillPause();
    phase.begin();
    long deleteStart = System.nanoTime();
    Workload.parallel(
        services,
        i ->
            () ->
                client
                    .services()
                    .inNamespace(Workload.NAMESPACE)
                    .withName(Workload.name(i))
                    .delete());
    boolean deleted =
        Timing.waitFor(() -> watch.present() == 0 || !controller.get().isAlive(), phaseLimit);
    long deleteEnd = watch.lastGone();
    Map<String, Object> delete = phase.end();
    delete.put("completed", deleted && watch.present() == 0);
    delete.put("seconds", Timing.round(Timing.secs(deleteEnd - deleteStart)));
    delete.put("floorSeconds", stats.floor("delete", services, latency, workers));
    return delete;
  }

  /** A Node change: from the bench's write to the cloud's last backend call for it. */
  Map<String, Object> nodeChange(PhaseCost phase, Callable<Object> change) throws Exception {
    stats.refillPause();
    phase.begin();
    long before = stats.kinds(NODE_CHANGE_KINDS);
    long at = System.currentTimeMillis();
    Process proc = controller.get();
    change.call();
    // the cloud's /stats is served inside the controller's process: read it a few times a second,
    // not every 20 ms, or the reading costs the contender CPU the phase then counts (the time to
    // the last call is the cloud's own timestamp, so it does not depend on how often it is read)
    boolean done =
        Timing.waitFor(
            () -> stats.kinds(NODE_CHANGE_KINDS) >= before + services || !proc.isAlive(),
            phaseLimit,
            STATS_POLL);
    // calls that would follow the expected ones: phase.end() waits two seconds at least
    Map<String, Object> m = phase.end();
    // the last call of the kinds the phase waits for: a read of the controller's own (its leak
    // sweep's list, on its own clock) is not the node change's
    long last = CloudStats.last(stats.read(), NODE_CHANGE_KINDS);
    m.put("completed", done);
    m.put("secondsToLastCall", Timing.round(Math.max(0, last - at) / 1000.0));
    m.put("floorSeconds", stats.floor("backends", services, latency, workers));
    return m;
  }

  /** A Ready flap on one Node: readiness does not change membership, so nothing should follow. */
  Map<String, Object> readyFlap(PhaseCost phase) throws Exception {
    String node = Workload.node(0).getMetadata().getName();
    phase.begin();
    Workload.setReady(client, node, false);
    Thread.sleep(2000);
    Workload.setReady(client, node, true);
    Thread.sleep(2000);
    return phase.end();
  }

  /** Nothing changes for {@code length}. */
  Map<String, Object> idle(PhaseCost phase, Duration length) throws Exception {
    phase.begin();
    Thread.sleep(length.toMillis());
    Map<String, Object> m = phase.end();
    m.put("seconds", length.toSeconds());
    return m;
  }

  /**
   * After a restart with every Service and Node in place: the re-check of every load balancer,
   * until the cloud calls stop (the simulated cloud restarts empty too, so each is made again).
   */
  Map<String, Object> recheck(Process restarted) throws Exception {
    Map<String, Object> m = new LinkedHashMap<>();
    long quietSince = System.nanoTime();
    long calls = -1;
    long deadline = System.nanoTime() + phaseLimit.toNanos();
    while (System.nanoTime() < deadline && restarted.isAlive()) {
      JsonNode now = stats.read();
      long made = CloudStats.sum(now, "kinds");
      long tried = made + CloudStats.sum(now, "throttled");
      if (tried != calls) {
        calls = tried;
        quietSince = System.nanoTime();
      } else if (System.nanoTime() - quietSince > 2_000_000_000L && made >= services) {
        break; // every load balancer checked
      }
      Thread.sleep(100);
    }
    JsonNode after = stats.read();
    m.put("recheckCloudCalls", CloudStats.sum(after, "kinds"));
    m.put("recheckThrottledCalls", CloudStats.sum(after, "throttled"));
    m.put(
        "secondsToLastCall",
        Timing.round(
            Math.max(0, after.path("lastCall").asLong() - Contender.startedAtMillis(restarted))
                / 1000.0));
    return m;
  }
}
