package dev.ferry.provider.azure;

import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.core.util.Context;
import com.azure.json.JsonProviders;
import com.azure.json.JsonReader;
import com.azure.json.JsonSerializable;
import com.azure.json.JsonToken;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.ProviderMetrics;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RequestNotPermitted;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Azure Resource Manager over azure-core's HTTP pipeline, with the vendor's own model classes for
 * every body ({@code *Inner.toJson} / {@code fromJson}): GET, PUT guarded by {@code If-Match}, and
 * DELETE, both long-running-operation shapes polled to the end ({@code Azure-AsyncOperation} after
 * a PUT, {@code Location} after a DELETE, honouring {@code Retry-After}).
 *
 * <p>Calls are paced under ARM's per-principal budget (writes 10/s and reads 25/s, the refill rates
 * of the documented 200/10s and 250/25s buckets), a 429 or 5xx is retried after the {@code
 * Retry-After} ARM gave (a refused request changed nothing), and every attempt is counted in {@code
 * ferry_provider_cloud_calls_total{provider="azure",operation,result}}.
 */
final class Arm {

  /** Reads a model from ARM's JSON ({@code XxxInner::fromJson}). */
  interface Model<T> {
    T read(JsonReader reader) throws IOException;
  }

  /** Observes every write once it was answered; the crash-safety tests stop here. */
  interface CallObserver {
    void after(String operation);
  }

  /** ARM's answer to a request that did not succeed. */
  static final class Failure extends RuntimeException {
    final int status;
    final String code;
    final Duration retryAfter;

    Failure(int status, String code, String message, Duration retryAfter) {
      super(status + " " + code + ": " + message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  static final String API_VERSION = "2024-05-01";

  /** The longest Retry-After waited for in place; a longer one is the caller's to wait. */
  static final Duration INLINE_WAIT = Duration.ofSeconds(5);

  private final HttpPipeline pipeline;
  private final String endpoint;
  private final ProviderMetrics metrics;
  private final RateLimiter reads;
  private final RateLimiter writes;
  private final int attempts;
  private final Duration maxPoll;
  private volatile CallObserver observer = op -> {};

  Arm(
      HttpPipeline pipeline,
      String endpoint,
      ProviderMetrics metrics,
      int writesPerSecond,
      int attempts,
      Duration maxPoll) {
    this.pipeline = pipeline;
    this.endpoint =
        endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
    this.metrics = metrics;
    this.reads = limiter("arm-reads", writesPerSecond * 5 / 2);
    this.writes = limiter("arm-writes", writesPerSecond);
    this.attempts = attempts;
    this.maxPoll = maxPoll;
  }

  private static RateLimiter limiter(String name, int perSecond) {
    return RateLimiter.of(
        name,
        RateLimiterConfig.custom()
            .limitForPeriod(Math.max(1, perSecond))
            .limitRefreshPeriod(Duration.ofSeconds(1))
            .timeoutDuration(Duration.ofSeconds(60))
            .build());
  }

  void observer(CallObserver observer) {
    this.observer = observer;
  }

  /** The resource, or empty on 404. */
  <T> Optional<T> get(String operation, String id, Model<T> model) throws ProviderException {
    HttpResponseData r = send(operation, reads, HttpMethod.GET, url(id), null, Map.of());
    if (r.status == 404) {
      return Optional.empty();
    }
    return Optional.of(ArmJson.parse(r.body, model));
  }

  /**
   * Creates or replaces the resource; {@code headers} may make it conditional ({@code If-Match:
   * <etag>}: a 412 means someone else wrote it since it was read; {@code If-None-Match: *}: only if
   * it does not exist). Waits until ARM has applied it and answers the resource as it now is.
   */
  <T> T put(
      String operation,
      String id,
      JsonSerializable<?> body,
      Map<String, String> headers,
      Model<T> model)
      throws ProviderException {
    HttpResponseData r;
    try {
      r = send(operation, writes, HttpMethod.PUT, url(id), ArmJson.json(body), headers);
    } finally {
      observer.after(operation); // answered or refused, the request was made
    }
    String async = r.headers.get("azure-asyncoperation");
    if (async != null) {
      await(operation, async, r.retryAfter, false);
    }
    return get(operation + ".read", id, model)
        .orElseThrow(
            () ->
                new ProviderException.Transient(id + " is gone right after it was written", null));
  }

  /** Every resource of a collection (e.g. a resource group's public IPs), following nextLink. */
  <T> List<T> list(String operation, String collectionId, Model<T> model) throws ProviderException {
    List<T> out = new ArrayList<>();
    String next = url(collectionId);
    for (int pages = 0; next != null && pages < 1000; pages++) {
      HttpResponseData r = send(operation, reads, HttpMethod.GET, next, null, Map.of());
      if (r.status == 404) {
        // a collection always exists in a resource group that does: this is the group missing
        // (ResourceGroupNotFound), never "nothing there"
        throw translate(
            operation,
            new Failure(
                404,
                ArmJson.errorCode(r.body),
                ArmJson.field(ArmJson.errorObject(r.body), "message"),
                r.retryAfter));
      }
      next = null;
      try (JsonReader reader = JsonProviders.createReader(r.body)) {
        reader.nextToken();
        while (reader.nextToken() != JsonToken.END_OBJECT) {
          String key = reader.getFieldName();
          reader.nextToken();
          if (key.equals("value")) {
            out.addAll(reader.readArray(model::read));
          } else if (key.equals("nextLink") && reader.currentToken() == JsonToken.STRING) {
            next = reader.getString();
          } else {
            reader.skipChildren();
          }
        }
      } catch (IOException e) {
        throw new ProviderException.Transient("ARM answered a list Ferry cannot read: " + e, e);
      }
    }
    return out;
  }

  /** Deletes the resource; absent is done. */
  void delete(String operation, String id) throws ProviderException {
    HttpResponseData r;
    try {
      r = send(operation, writes, HttpMethod.DELETE, url(id), null, Map.of());
    } finally {
      observer.after(operation);
    }
    String location = r.headers.get("location");
    if (r.status == 202 && location != null) {
      await(operation, location, r.retryAfter, true);
    }
  }

  private void await(String operation, String url, Duration first, boolean location)
      throws ProviderException {
    Duration wait = first;
    for (int polls = 0; polls < 600; polls++) {
      sleep(wait);
      HttpResponseData r = send(operation + ".poll", reads, HttpMethod.GET, url, null, Map.of());
      if (location) {
        if (r.status == 200 || r.status == 204) {
          return;
        }
      } else {
        String status = ArmJson.field(r.body, "status");
        if ("Succeeded".equalsIgnoreCase(status)) {
          return;
        }
        if ("Failed".equalsIgnoreCase(status) || "Canceled".equalsIgnoreCase(status)) {
          throw new ProviderException.Transient(
              operation
                  + ": the operation ended "
                  + status
                  + ": "
                  + new String(r.body, StandardCharsets.UTF_8),
              null);
        }
      }
      wait = r.retryAfter;
    }
    throw new ProviderException.Transient(operation + ": still running after 600 polls", null);
  }

  private record HttpResponseData(
      int status, byte[] body, Map<String, String> headers, Duration retryAfter) {}

  private HttpResponseData send(
      String operation,
      RateLimiter limiter,
      HttpMethod method,
      String url,
      byte[] body,
      Map<String, String> headers)
      throws ProviderException {
    Failure last = null;
    for (int attempt = 1; attempt <= attempts; attempt++) {
      try {
        RateLimiter.waitForPermission(limiter);
      } catch (RequestNotPermitted e) {
        count(operation, "rate_limited");
        throw new ProviderException.Throttled(
            "the ARM budget is spent locally", Duration.ofSeconds(10), e);
      }
      HttpRequest request = new HttpRequest(method, url);
      headers.forEach(request::setHeader);
      if (body != null) {
        request.setHeader(HttpHeaderName.CONTENT_TYPE, "application/json");
        request.setBody(body);
        // the JDK's client sets the length itself and warns about one given (on every request)
        request.getHeaders().remove(HttpHeaderName.CONTENT_LENGTH);
      }
      HttpResponseData r;
      try (HttpResponse response = pipeline.sendSync(request, Context.NONE)) {
        byte[] bytes =
            response.getBodyAsBinaryData() == null
                ? new byte[0]
                : response.getBodyAsBinaryData().toBytes();
        Map<String, String> h = new java.util.HashMap<>();
        response
            .getHeaders()
            .forEach(x -> h.put(x.getName().toLowerCase(java.util.Locale.ROOT), x.getValue()));
        r =
            new HttpResponseData(
                response.getStatusCode(), bytes, h, retryAfter(h.get("retry-after")));
      } catch (RuntimeException e) {
        count(operation, "error");
        last =
            new Failure(
                0, "ConnectionFailed", String.valueOf(e.getMessage()), Duration.ofSeconds(1));
        sleep(Duration.ofMillis(200L * attempt));
        continue;
      }
      if (r.status < 400 || (r.status == 404 && method == HttpMethod.GET)) {
        count(operation, r.status == 404 ? "not_found" : "ok");
        return r;
      }
      String code = ArmJson.errorCode(r.body);
      String message = ArmJson.field(ArmJson.errorObject(r.body), "message");
      last = new Failure(r.status, code, message, r.retryAfter);
      boolean retry = r.status == 429 || r.status >= 500;
      count(
          operation,
          r.status == 429
              ? "throttled"
              : r.status == 412 ? "conflict" : r.status == 403 ? "denied" : "error");
      if (!retry || attempt == attempts || r.retryAfter.compareTo(INLINE_WAIT) > 0) {
        break; // a long Retry-After goes back to the caller whole: its Service waits, not a worker
      }
      sleep(r.status == 429 && r.retryAfter.isZero() ? Duration.ofSeconds(1) : r.retryAfter);
    }
    throw translate(operation, last);
  }

  private void count(String operation, String result) {
    metrics.increment("cloud_calls", Map.of("operation", operation, "result", result));
  }

  static ProviderException translate(String operation, Failure f) {
    String message = operation + ": " + f.getMessage();
    if (f.status == 429) {
      return new ProviderException.Throttled(
          message, f.retryAfter.isZero() ? Duration.ofSeconds(10) : f.retryAfter, f);
    }
    if (f.status == 403 || "AuthorizationFailed".equals(f.code)) {
      return new ProviderException.Transient(
          "Ferry's Azure identity may not call "
              + operation
              + " ("
              + f.code
              + "); grant it the Network Contributor role on the resource group (see docs/providers/azure.md)",
          f);
    }
    if (f.code != null && (f.code.contains("Limit") || f.code.contains("Quota"))) {
      return new ProviderException.QuotaExceeded(
          "an Azure limit is reached (" + message + "); raise it or free resources", f);
    }
    return new ProviderException.Transient(message, f);
  }

  /** True when {@code e} is ARM answering this HTTP status. */
  static boolean failedWith(ProviderException e, int status) {
    return e.getCause() instanceof Failure f && f.status == status;
  }

  String url(String id) {
    return endpoint + id + "?api-version=" + API_VERSION;
  }

  private static Duration retryAfter(String header) {
    if (header == null) {
      return Duration.ofSeconds(1);
    }
    try {
      return Duration.ofSeconds(Math.max(0, Long.parseLong(header.trim())));
    } catch (NumberFormatException e) {
      return Duration.ofSeconds(1);
    }
  }

  private void sleep(Duration d) throws ProviderException {
    Duration capped = d.compareTo(maxPoll) > 0 ? maxPoll : d;
    try {
      Thread.sleep(capped.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException.Transient("interrupted while waiting for ARM", e);
    }
  }
}
