package dev.ferry.sim;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * The simulated cloud's API: each call sleeps the set latency, is counted by method and kind, and
 * draws from the budget's buckets; a call over budget is refused (counted as throttled) and does
 * nothing. {@code /stats} on the stats port answers the counts as JSON, for the benchmark to read
 * from outside the controller's process.
 */
final class SimCloud implements AutoCloseable {

  /** The cloud refused a call over its budget, as a real cloud answers "Throttling". */
  static final class ThrottledException extends Exception {
    ThrottledException(String bucket) {
      super("Throttling: rate exceeded (" + bucket + ")");
    }
  }

  private final Duration latency;
  private final Budget budget;
  private final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> throttled = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> kinds = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> lastByKind = new ConcurrentHashMap<>();
  private final AtomicLong lastAny = new AtomicLong();
  private final HttpServer stats;

  SimCloud(Duration latency, Budget budget, int statsPort) {
    this.latency = latency;
    this.budget = budget;
    if (statsPort < 0) {
      stats = null;
      return;
    }
    try {
      stats =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), statsPort), 8);
    } catch (IOException e) {
      throw new IllegalArgumentException("sim.stats-port " + statsPort + ": " + e.getMessage(), e);
    }
    stats.createContext(
        "/stats",
        ex -> {
          byte[] body = json().getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("Content-Type", "application/json");
          ex.sendResponseHeaders(200, body.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    stats.start();
  }

  int statsPort() {
    return stats == null ? -1 : stats.getAddress().getPort();
  }

  /** One API call of {@code method}: over budget it is refused, else it takes the latency. */
  void call(String method, Budget.Kind kind) throws ThrottledException {
    for (TokenBucket b : budget.of(kind)) {
      if (!b.tryTake()) {
        throttled.computeIfAbsent(method, k -> new AtomicLong()).incrementAndGet();
        throw new ThrottledException(b.name());
      }
    }
    if (!latency.isZero()) {
      try {
        Thread.sleep(latency);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    calls.computeIfAbsent(method, k -> new AtomicLong()).incrementAndGet();
    String k = kind.name().toLowerCase(java.util.Locale.ROOT);
    kinds.computeIfAbsent(k, x -> new AtomicLong()).incrementAndGet();
    long now = System.currentTimeMillis();
    lastByKind.computeIfAbsent(k, x -> new AtomicLong()).accumulateAndGet(now, Math::max);
    lastAny.accumulateAndGet(now, Math::max);
  }

  long calls(String method) {
    AtomicLong n = calls.get(method);
    return n == null ? 0 : n.get();
  }

  long throttled() {
    return throttled.values().stream().mapToLong(AtomicLong::get).sum();
  }

  /** The counts as JSON: calls and throttled by method, calls and last call (epoch ms) by kind. */
  String json() {
    return "{\"controller\":\"ferry\",\"budget\":\""
        + budget.shape()
        + "\",\"latencyMs\":"
        + latency.toMillis()
        + ",\"calls\":"
        + object(calls)
        + ",\"throttled\":"
        + object(throttled)
        + ",\"kinds\":"
        + object(kinds)
        + ",\"lastByKind\":"
        + object(lastByKind)
        + ",\"lastCall\":"
        + lastAny.get()
        + ",\"buckets\":"
        + budget.json()
        + "}";
  }

  private static String object(Map<String, AtomicLong> m) {
    return new TreeMap<>(m)
        .entrySet().stream()
            .map(e -> "\"" + e.getKey() + "\":" + e.getValue().get())
            .collect(Collectors.joining(",", "{", "}"));
  }

  @Override
  public void close() {
    if (stats != null) {
      stats.stop(0);
    }
  }
}
