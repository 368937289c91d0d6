package dev.ferry.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** The simulated cloud's {@code /stats}. */
final class CloudStats {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final int port;

  CloudStats(int port) {
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

  /**
   * The least time {@code calls} calls of {@code kind} can take: their latency spread over the
   * workers, or, under token buckets that start full, the refill time of the slowest bucket they
   * draw from: (calls - capacity) / rate.
   */
  double floor(String kind, long calls, Duration lat, int workers) {
    double floor = calls * (lat.toNanos() / 1e9) / workers;
    try {
      for (JsonNode b : read().path("buckets")) {
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
    return Timing.round(floor);
  }

  /** Under token buckets, waits until every bucket is full again, so each phase starts alike. */
  void refillPause() throws IOException, InterruptedException {
    double longest = 0;
    for (JsonNode b : read().path("buckets")) {
      longest = Math.max(longest, b.path("capacity").asDouble() / b.path("perSecond").asDouble());
    }
    if (longest > 0) {
      Thread.sleep((long) (longest * 1000) + 200);
    }
  }
}
