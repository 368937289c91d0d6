package dev.ferry.controller;

import dev.ferry.spi.AdoptionPreview;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.RetainedAddress;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Stands between the controller and a provider, so that nothing a provider does can stop a worker:
 *
 * <ul>
 *   <li>at most {@code slots} callers wait on the cloud at once ({@code --workers}), first come
 *       first served; a caller holds its slot until the call returns or is abandoned, so no wait
 *       for a slot is longer than a deadline;
 *   <li>every call has a deadline; a call that overruns it is interrupted and abandoned, and the
 *       worker moves on. Until the abandoned call really returns, further calls for the same
 *       Service fail fast, so one Service never has two calls in flight;
 *   <li>anything a provider throws besides a {@link ProviderException} (a bug, an {@link Error}
 *       from a plugin's missing class) becomes a {@link ProviderException.Transient} naming it, and
 *       is logged with its stack;
 *   <li>every call is timed and counted by operation and result ({@code ferry_provider_calls}).
 * </ul>
 */
final class GuardedProvider implements LoadBalancerProvider {

  private static final Logger log = LoggerFactory.getLogger(GuardedProvider.class);

  private interface Call<T> {
    T run() throws ProviderException;
  }

  private final LoadBalancerProvider delegate;
  private final MeterRegistry registry;
  private final Duration deadline;
  private final Semaphore slots;
  private final Map<String, CompletableFuture<?>> abandoned = new ConcurrentHashMap<>();
  // each operation and result's timer, looked up once (the registry's lookup builds an id per call)
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  GuardedProvider(
      LoadBalancerProvider delegate, MeterRegistry registry, Duration deadline, int slots) {
    this.delegate = delegate;
    this.registry = registry;
    this.deadline = deadline;
    this.slots = new Semaphore(slots, true); // first come, first served
    Deadlines.start();
  }

  /**
   * The provider's capabilities; a provider that cannot say (throws, or answers null) is reported
   * as a transient failure, like any other broken call.
   */
  Capabilities checkedCapabilities() throws ProviderException {
    Capabilities c;
    try {
      c = delegate.capabilities();
    } catch (RuntimeException | Error e) {
      log.error("provider call capabilities failed unexpectedly", e);
      throw new ProviderException.Transient(
          "the provider failed unexpectedly in capabilities: " + e, e);
    }
    if (c == null) {
      throw new ProviderException.Transient("the provider's capabilities() returned null", null);
    }
    return c;
  }

  @Override
  public Capabilities capabilities() {
    return delegate.capabilities();
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) throws ProviderException {
    return guarded("find", ref, () -> delegate.find(ref));
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    LoadBalancerStatus status = guarded("ensure", plan.ref(), () -> delegate.ensure(plan));
    if (status == null) {
      throw new ProviderException.Transient("the provider's ensure returned no status", null);
    }
    return status;
  }

  @Override
  public void updateBackends(LoadBalancerRef ref, List<Backend> backends) throws ProviderException {
    guarded(
        "updateBackends",
        ref,
        () -> {
          delegate.updateBackends(ref, backends);
          return null;
        });
  }

  @Override
  public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
    guarded(
        "ensureDeleted",
        ref,
        () -> {
          delegate.ensureDeleted(ref);
          return null;
        });
  }

  @Override
  public AdoptionPreview previewAdoption(LoadBalancerPlan plan, String id)
      throws ProviderException {
    return guarded("previewAdoption", plan.ref(), () -> delegate.previewAdoption(plan, id));
  }

  @Override
  public void ensureRetained(LoadBalancerRef ref) throws ProviderException {
    guarded(
        "ensureRetained",
        ref,
        () -> {
          delegate.ensureRetained(ref);
          return null;
        });
  }

  @Override
  public List<RetainedAddress> listRetained(String clusterName) throws ProviderException {
    List<RetainedAddress> answer =
        guarded("listRetained", null, () -> delegate.listRetained(clusterName));
    return answer == null ? List.of() : answer;
  }

  @Override
  public void deleteRetained(String clusterName, String id) throws ProviderException {
    guarded(
        "deleteRetained",
        null,
        () -> {
          delegate.deleteRetained(clusterName, id);
          return null;
        });
  }

  @Override
  public Map<LoadBalancerRef, LoadBalancerStatus> inStep(List<LoadBalancerPlan> plans)
      throws ProviderException {
    Map<LoadBalancerRef, LoadBalancerStatus> answer =
        guarded("inStep", null, () -> delegate.inStep(plans));
    return answer == null ? Map.of() : answer;
  }

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException {
    return guarded("listOwned", null, () -> delegate.listOwned(clusterName));
  }

  @Override
  public void close() {
    delegate.close();
  }

  private <T> T guarded(String operation, LoadBalancerRef ref, Call<T> call)
      throws ProviderException {
    String key = ref == null ? "" : ref.uid();
    CompletableFuture<?> earlier = abandoned.get(key);
    if (earlier != null) {
      if (!earlier.isDone()) {
        count(operation, "busy", Timer.start(registry));
        throw new ProviderException.Transient(
            "an earlier provider call for this Service overran its deadline and has not returned"
                + " yet; Ferry waits for it before calling again",
            null);
      }
      abandoned.remove(key, earlier);
    }
    try {
      slots.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException.Transient("interrupted while waiting to call the provider", e);
    }
    try {
      return call(operation, key, call);
    } finally {
      slots.release();
    }
  }

  private <T> T call(String operation, String key, Call<T> call) throws ProviderException {
    Timer.Sample sample = Timer.start(registry);
    CompletableFuture<T> answer = new CompletableFuture<>();
    Map<String, String> mdc = MDC.getCopyOfContextMap();
    Thread thread =
        Thread.ofVirtual()
            .name("ferry-provider-" + operation)
            .start(
                () -> {
                  if (mdc != null) {
                    MDC.setContextMap(mdc);
                  }
                  try {
                    answer.complete(call.run());
                  } catch (Throwable t) {
                    answer.completeExceptionally(t);
                  }
                });
    try {
      T value = Deadlines.get(answer, deadline.toMillis());
      count(operation, "ok", sample);
      return value;
    } catch (TimeoutException e) {
      thread.interrupt();
      abandoned.put(key, answer);
      count(operation, "deadline_exceeded", sample);
      log.warn("provider call {} overran its deadline of {}; abandoned", operation, deadline);
      throw new ProviderException.Transient(
          "the provider's "
              + operation
              + " call overran its deadline of "
              + deadline
              + " (--provider-timeout) and was abandoned",
          null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      thread.interrupt();
      abandoned.put(key, answer);
      count(operation, "interrupted", sample);
      throw new ProviderException.Transient("interrupted while calling the provider", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ProviderException p) {
        count(operation, result(p), sample);
        throw p;
      }
      count(operation, "crashed", sample);
      log.error("provider call {} failed unexpectedly", operation, cause);
      throw new ProviderException.Transient(
          "the provider failed unexpectedly in " + operation + ": " + cause, cause);
    }
  }

  private static String result(ProviderException e) {
    return switch (e) {
      case ProviderException.InvalidPlan x -> "invalid_plan";
      case ProviderException.Throttled x -> "throttled";
      case ProviderException.Transient x -> "transient";
      case ProviderException.QuotaExceeded x -> "quota_exceeded";
    };
  }

  private void count(String operation, String result, Timer.Sample sample) {
    sample.stop(
        timers.computeIfAbsent(
            operation + ' ' + result,
            k ->
                Timer.builder("ferry.provider.calls")
                    .description("Provider calls by operation and result")
                    .tag("operation", operation)
                    .tag("result", result)
                    .register(registry)));
  }
}
