package dev.ferry.provider.aws;

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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Every AWS call goes through here: rate limiters sized to AWS's published token buckets (per
 * account and region), a retry with exponential backoff for throttling and server errors, a circuit
 * breaker so a broken region fails fast, a counter per operation and result ({@code
 * ferry_provider_cloud_calls_total{provider="aws"}}, through the controller's metrics hook), and
 * the translation of AWS errors into {@link ProviderException}s.
 */
final class AwsApi {

  private static final Logger log = LoggerFactory.getLogger(AwsApi.class);

  /** Which AWS bucket a call draws from. */
  enum Bucket {
    ELB_READ,
    ELB_CREATE_LOAD_BALANCER,
    ELB_TARGETS,
    ELB_MUTATE,
    EC2_READ,
    EC2_MUTATE
  }

  /**
   * Observes every call once it was answered or failed; the crash-safety tests use it to stop the
   * provider right after call N.
   */
  interface CallObserver {
    void after(String operation);
  }

  // the limits AWS names by error code; any other TooMany* is a limit too
  private static final Map<String, String> LIMITS =
      Map.of(
          "TooManyLoadBalancers", "load balancers per region",
          "TooManyTargetGroups", "target groups per region",
          "TooManyListeners", "listeners per load balancer",
          "TooManyTargets", "targets per load balancer",
          "TooManyTags", "tags per resource",
          "RulesPerSecurityGroupLimitExceeded", "inbound rules per security group",
          "AddressLimitExceeded", "Elastic IP addresses per region");
  // the operator must grant Ferry's IAM role a permission: not the Service's fault
  private static final Set<String> DENIED_CODES =
      Set.of("AccessDenied", "AccessDeniedException", "UnauthorizedOperation");
  // answers to lookups of what may not exist: an expected outcome, not a failure
  private static final String[] NOT_FOUND = {
    "LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound", "InvalidGroup.NotFound"
  };
  private static final Set<String> USER_CODES =
      Set.of(
          "InvalidSubnet",
          "SubnetNotFound",
          "InvalidSubnetID.NotFound",
          "AllocationIdNotFound",
          "InvalidAllocationID.NotFound",
          "InvalidConfigurationRequest",
          "InvalidScheme");

  private final RateLimiter elb = limiter("elb", 10, Duration.ofSeconds(1));
  private final RateLimiter elbCreate = limiter("elb-create-lb", 1, Duration.ofSeconds(5));
  private final RateLimiter elbTargets = limiter("elb-targets", 4, Duration.ofSeconds(1));
  private final RateLimiter elbMutate = limiter("elb-mutate", 3, Duration.ofSeconds(1));
  private final RateLimiter ec2Read = limiter("ec2-read", 20, Duration.ofSeconds(1));
  private final RateLimiter ec2Mutate = limiter("ec2-mutate", 5, Duration.ofSeconds(1));
  private final Retry retry;
  private final CircuitBreaker breaker;
  private volatile CallObserver observer = op -> {};
  private volatile boolean paced = true;
  // set on a thread while it checks (inStep): a mutating call is refused, never made
  private final ThreadLocal<Boolean> readOnly = ThreadLocal.withInitial(() -> false);

  private final ProviderMetrics metrics;

  AwsApi(Duration firstBackoff, int attempts, ProviderMetrics metrics) {
    this.metrics = metrics;
    this.retry =
        Retry.of(
            "aws",
            RetryConfig.custom()
                .maxAttempts(attempts)
                .intervalFunction(
                    IntervalFunction.ofExponentialRandomBackoff(
                        firstBackoff, 2.0, 0.3, Duration.ofSeconds(20)))
                .retryOnException(AwsApi::retryable)
                .build());
    this.breaker =
        CircuitBreaker.of(
            "aws",
            CircuitBreakerConfig.custom()
                .slidingWindowSize(20)
                .minimumNumberOfCalls(10)
                .failureRateThreshold(50)
                .waitDurationInOpenState(Duration.ofSeconds(30))
                .recordException(AwsApi::retryable)
                .build());
  }

  void observer(CallObserver observer) {
    this.observer = observer;
  }

  /** Lifts the rate limits, for tests that build many resources on an emulator quickly. */
  void unpaced() {
    this.paced = false;
  }

  private static RateLimiter limiter(String name, int permits, Duration period) {
    return RateLimiter.of(
        name,
        RateLimiterConfig.custom()
            .limitForPeriod(permits)
            .limitRefreshPeriod(period)
            .timeoutDuration(Duration.ofSeconds(30))
            .build());
  }

  private List<RateLimiter> limiters(Bucket bucket) {
    if (!paced) {
      return List.of();
    }
    return switch (bucket) {
      case ELB_READ -> List.of(elb);
      case ELB_CREATE_LOAD_BALANCER -> List.of(elb, elbCreate);
      case ELB_TARGETS -> List.of(elb, elbTargets);
      case ELB_MUTATE -> List.of(elb, elbMutate);
      case EC2_READ -> List.of(ec2Read);
      case EC2_MUTATE -> List.of(ec2Mutate);
    };
  }

  static boolean retryable(Throwable t) {
    if (t instanceof AwsServiceException e) {
      return e.isThrottlingException() || e.statusCode() >= 500;
    }
    return t instanceof SdkClientException;
  }

  /** While set, this thread's mutating calls throw {@link ReadRound.WouldChange} instead. */
  void readOnly(boolean on) {
    readOnly.set(on);
  }

  private static boolean mutating(Bucket bucket) {
    return bucket != Bucket.ELB_READ && bucket != Bucket.EC2_READ;
  }

  /** Runs one AWS call with limits, retry and breaker; counts it; maps failures. */
  <T> T call(Bucket bucket, String operation, Supplier<T> call) throws ProviderException {
    if (readOnly.get() && mutating(bucket)) {
      throw new ReadRound.WouldChange(operation);
    }
    Supplier<T> limited =
        () -> {
          for (RateLimiter l : limiters(bucket)) {
            RateLimiter.waitForPermission(l);
          }
          return call.get();
        };
    String result = "ok";
    try {
      T value =
          Retry.decorateSupplier(retry, CircuitBreaker.decorateSupplier(breaker, limited)).get();
      return value;
    } catch (AwsServiceException e) {
      result =
          e.isThrottlingException()
              ? "throttled"
              : isCode(e, NOT_FOUND)
                  ? "not_found"
                  : isCode(e, DENIED_CODES.toArray(String[]::new)) ? "denied" : "error";
      throw translate(operation, e);
    } catch (SdkException e) {
      result = "error";
      throw new ProviderException.Transient(operation + ": " + e.getMessage(), e);
    } catch (CallNotPermittedException e) {
      result = "circuit_open";
      throw new ProviderException.Transient(
          "AWS calls are failing; the circuit breaker is open for a while", e);
    } catch (RequestNotPermitted e) {
      result = "rate_limited";
      throw new ProviderException.Throttled(
          "AWS API budget exhausted locally", Duration.ofSeconds(10), e);
    } finally {
      metrics.increment("cloud_calls", Map.of("operation", operation, "result", result));
      observer.after(operation); // answered or failed, the call has happened
    }
  }

  /** A call whose only interest is its side effect. */
  void run(Bucket bucket, String operation, Runnable call) throws ProviderException {
    call(
        bucket,
        operation,
        () -> {
          call.run();
          return null;
        });
  }

  /**
   * Every item of a paged read: {@code fetch} is called with the next page's token (null first),
   * each page through {@link #call}, until a page names no next token.
   */
  <P, T> List<T> pages(
      Bucket bucket,
      String operation,
      java.util.function.Function<String, P> fetch,
      java.util.function.Function<P, List<T>> items,
      java.util.function.Function<P, String> next)
      throws ProviderException {
    List<T> all = new java.util.ArrayList<>();
    String token = null;
    do {
      String t = token;
      P page = call(bucket, operation, () -> fetch.apply(t));
      all.addAll(items.apply(page));
      token = next.apply(page);
    } while (token != null);
    return all;
  }

  /** True when {@code e} is AWS answering one of {@code codes}. */
  static boolean failedWith(ProviderException e, String... codes) {
    return e.getCause() instanceof AwsServiceException a && isCode(a, codes);
  }

  static boolean isCode(AwsServiceException e, String... codes) {
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    for (String c : codes) {
      if (c.equals(code)) {
        return true;
      }
    }
    return false;
  }

  static ProviderException translate(String operation, AwsServiceException e) {
    String code = e.awsErrorDetails() == null ? "" : e.awsErrorDetails().errorCode();
    String message =
        operation
            + ": "
            + code
            + ": "
            + (e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage());
    if (e.isThrottlingException()) {
      return new ProviderException.Throttled(message, Duration.ofSeconds(10), e);
    }
    if (LIMITS.containsKey(code) || (code != null && code.startsWith("TooMany"))) {
      return new ProviderException.QuotaExceeded(
          "AWS limit reached ("
              + LIMITS.getOrDefault(code, code)
              + "): "
              + message
              + "; raise it in Service Quotas, or remove unused resources",
          e);
    }
    if (DENIED_CODES.contains(code)) {
      return new ProviderException.Transient(
          "Ferry's AWS identity may not call "
              + operation
              + " ("
              + code
              + "); grant it in the IAM policy of Ferry's role (see the chart's README)",
          e);
    }
    if ("ValidationError".equals(code)) {
      // Ferry built this request: AWS refusing its shape is Ferry's bug, not the Service's
      log.error(
          "AWS refused a request Ferry built ({}); please report this bug: {}", operation, message);
      return new ProviderException.Transient(
          "AWS refused a request Ferry built (a Ferry bug, reported in its log): " + message, e);
    }
    if (USER_CODES.contains(code)) {
      return new ProviderException.InvalidPlan(
          "metadata.annotations", message + "; check the aws-load-balancer annotations");
    }
    return new ProviderException.Transient(message, e);
  }
}
