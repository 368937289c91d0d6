package dev.ferry.provider.gcp;

import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.compute.v1.Operation;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.ProviderMetrics;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RequestNotPermitted;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Every Compute call goes through here:
 *
 * <ul>
 *   <li>a client-side budget under the Compute API's per-minute quotas (about 1,500 reads and 1,500
 *       mutations a minute per project; Ferry takes 1,200 of each, leaving room for other users of
 *       the project), so a burst waits instead of being refused;
 *   <li>a retry with exponential backoff for {@code rateLimitExceeded} and server errors (a refused
 *       request changed nothing, so repeating it is safe), and a circuit breaker;
 *   <li>a counter per operation and result ({@code ferry_provider_cloud_calls_total
 *       {provider="gcp"}});
 *   <li>mutations answer an {@link Operation}, polled here until {@code DONE}; an operation that
 *       ends with an error is mapped by its error code;
 *   <li>Compute's errors mapped to {@link ProviderException}s: throttling, quotas by name,
 *       permissions naming the call to grant, 404/409 left to the caller's idempotent handling.
 * </ul>
 */
final class GcpApi {

  /** Observes every mutating call once it was answered; the crash-safety tests stop here. */
  interface CallObserver {
    void after(String operation);
  }

  private final RateLimiter reads;
  private final RateLimiter writes;
  private final Retry retry;
  private final CircuitBreaker breaker;
  private final ProviderMetrics metrics;
  private final UnaryOperator<Operation> poll;
  private final Duration pollFirst;
  private final Duration operationDeadline;
  private volatile CallObserver observer = op -> {};

  /**
   * @param poll reads an operation again (regional, zonal or global by its own links)
   * @param pollFirst the first wait between polls; it doubles up to 2 s
   */
  GcpApi(
      int perMinute,
      Duration firstBackoff,
      int attempts,
      UnaryOperator<Operation> poll,
      Duration pollFirst,
      Duration operationDeadline,
      ProviderMetrics metrics) {
    this.reads = limiter("gcp-reads", perMinute);
    this.writes = limiter("gcp-writes", perMinute);
    this.poll = poll;
    this.pollFirst = pollFirst;
    this.operationDeadline = operationDeadline;
    this.metrics = metrics;
    this.retry =
        Retry.of(
            "gcp",
            RetryConfig.custom()
                .maxAttempts(attempts)
                .intervalFunction(
                    IntervalFunction.ofExponentialRandomBackoff(
                        firstBackoff, 2.0, 0.3, Duration.ofSeconds(20)))
                .retryOnException(GcpErrors::retryable)
                .build());
    this.breaker =
        CircuitBreaker.of(
            "gcp",
            CircuitBreakerConfig.custom()
                .slidingWindowSize(20)
                .minimumNumberOfCalls(10)
                .failureRateThreshold(50)
                .waitDurationInOpenState(Duration.ofSeconds(30))
                .recordException(GcpErrors::retryable)
                .build());
  }

  private static RateLimiter limiter(String name, int perMinute) {
    // a per-second refill of a per-minute quota: an even pace, never a minute's burst at once
    return RateLimiter.of(
        name,
        RateLimiterConfig.custom()
            .limitForPeriod(Math.max(1, perMinute / 60))
            .limitRefreshPeriod(Duration.ofSeconds(1))
            .timeoutDuration(Duration.ofSeconds(30))
            .build());
  }

  void observer(CallObserver observer) {
    this.observer = observer;
  }

  /** The resource, or empty when Compute answers 404. */
  <T> Optional<T> get(String operation, Supplier<T> call) throws ProviderException {
    try {
      return Optional.of(call(operation, reads, call));
    } catch (ProviderException e) {
      if (e.getCause() instanceof ApiException a
          && a.getStatusCode().getCode() == StatusCode.Code.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** A read (a list, a group's members). */
  <T> T read(String operation, Supplier<T> call) throws ProviderException {
    return call(operation, reads, call);
  }

  /**
   * A mutation: the request, then its operation polled to {@code DONE}; fails as it failed. The
   * call is given a {@code requestId}, the same on every retry, so Compute runs a retried request
   * once (https://cloud.google.com/compute/docs/api/how-tos/api-requests-responses#request_id).
   */
  void mutate(String operation, Function<String, Operation> call) throws ProviderException {
    String requestId = UUID.randomUUID().toString();
    Operation started;
    try {
      started = call(operation, writes, () -> call.apply(requestId));
    } finally {
      observer.after(operation); // answered or refused, the request was made
    }
    await(operation, started);
  }

  /** Whether a resource exists (a read by name). */
  interface Exists {
    boolean check() throws ProviderException;
  }

  /**
   * An insert: as {@link #mutate}, except that {@code alreadyExists} (an earlier attempt made it: a
   * crash, a lost answer, its operation perhaps still running) waits until the resource can be
   * read, up to the operation deadline. Every name is deterministic and every caller read it
   * before, so the resource is the one this insert would have made, or it is checked as owned by
   * the next step.
   */
  void insert(String operation, Function<String, Operation> call, Exists exists)
      throws ProviderException {
    try {
      mutate(operation, call);
    } catch (ProviderException e) {
      if (!GcpErrors.refusedAs(e, "alreadyExists")) {
        throw e;
      }
      long deadline = System.nanoTime() + operationDeadline.toNanos();
      Duration wait = pollFirst;
      while (!exists.check()) {
        if (System.nanoTime() > deadline) {
          throw new ProviderException.Transient(
              operation + ": made by an earlier attempt but still not readable", e);
        }
        sleep(operation, wait);
        wait =
            wait.multipliedBy(2).compareTo(Duration.ofSeconds(2)) > 0
                ? Duration.ofSeconds(2)
                : wait.multipliedBy(2);
      }
    }
  }

  private static void sleep(String operation, Duration wait) throws ProviderException {
    try {
      Thread.sleep(wait.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException.Transient(operation + ": interrupted while waiting", e);
    }
  }

  /**
   * A delete: 404 means done already; {@code resourceInUseByAnotherResource} is answered false
   * (something still refers to it, e.g. another Service's backend service to a shared group).
   */
  boolean delete(String operation, Function<String, Operation> call) throws ProviderException {
    try {
      mutate(operation, call);
      return true;
    } catch (ProviderException e) {
      if (e.getCause() instanceof ApiException a) {
        if (a.getStatusCode().getCode() == StatusCode.Code.NOT_FOUND) {
          return true;
        }
      }
      // refused at once (400) or by its operation: something still refers to it
      if (GcpErrors.mentions(
          GcpErrors.details(e),
          List.of("resourceInUseByAnotherResource", "RESOURCE_IN_USE_BY_ANOTHER"))) {
        return false;
      }
      throw e;
    }
  }

  private void await(String operation, Operation op) throws ProviderException {
    long deadline = System.nanoTime() + operationDeadline.toNanos();
    Duration wait = pollFirst;
    while (op.getStatus() != Operation.Status.DONE) {
      if (System.nanoTime() > deadline) {
        throw new ProviderException.Transient(
            operation
                + ": operation "
                + op.getName()
                + " still "
                + op.getStatus()
                + " after "
                + operationDeadline.toSeconds()
                + "s; the next attempt finds what it made",
            null);
      }
      sleep(operation, wait);
      wait =
          wait.multipliedBy(2).compareTo(Duration.ofSeconds(2)) > 0
              ? Duration.ofSeconds(2)
              : wait.multipliedBy(2);
      Operation current = op;
      op = call("operations.get", reads, () -> poll.apply(current));
    }
    if (op.hasError() && op.getError().getErrorsCount() > 0) {
      throw GcpErrors.failed(operation, op);
    }
  }

  private <T> T call(String operation, RateLimiter limiter, Supplier<T> call)
      throws ProviderException {
    // every attempt is counted with its own result, a retried throttle too
    Supplier<T> counted =
        () -> {
          RateLimiter.waitForPermission(limiter);
          String result = "ok";
          try {
            return call.get();
          } catch (ApiException e) {
            result = GcpErrors.result(e);
            throw e;
          } finally {
            metrics.increment("cloud_calls", Map.of("operation", operation, "result", result));
          }
        };
    try {
      return Retry.decorateSupplier(retry, CircuitBreaker.decorateSupplier(breaker, counted)).get();
    } catch (ApiException e) {
      throw GcpErrors.translate(operation, e);
    } catch (CallNotPermittedException e) {
      metrics.increment("cloud_calls", Map.of("operation", operation, "result", "circuit_open"));
      throw new ProviderException.Transient(
          "Compute calls are failing; the circuit breaker is open for a while", e);
    } catch (RequestNotPermitted e) {
      metrics.increment("cloud_calls", Map.of("operation", operation, "result", "rate_limited"));
      throw new ProviderException.Throttled(
          "the Compute API budget is spent locally", Duration.ofSeconds(10), e);
    }
  }

  /** Every item of a paged list. */
  <P, T> List<T> pages(
      String operation,
      Function<String, P> fetch,
      Function<P, List<T>> items,
      Function<P, String> next)
      throws ProviderException {
    List<T> out = new ArrayList<>();
    String token = "";
    do {
      String t = token;
      P page = read(operation, () -> fetch.apply(t));
      out.addAll(items.apply(page));
      token = next.apply(page);
    } while (!token.isEmpty());
    return out;
  }
}
