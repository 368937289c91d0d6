package dev.ferry.controller;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.ProviderException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.Optional;

/**
 * Times and counts every provider call by operation and result ({@code ferry_provider_calls}), so
 * an operator sees which cloud calls are slow or failing without reading logs.
 */
final class InstrumentedProvider implements LoadBalancerProvider {

  private interface Call<T> {
    T run() throws ProviderException;
  }

  private final LoadBalancerProvider delegate;
  private final MeterRegistry registry;

  InstrumentedProvider(LoadBalancerProvider delegate, MeterRegistry registry) {
    this.delegate = delegate;
    this.registry = registry;
  }

  @Override
  public Capabilities capabilities() {
    return delegate.capabilities();
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) throws ProviderException {
    return timed("find", () -> delegate.find(ref));
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    return timed("ensure", () -> delegate.ensure(plan));
  }

  @Override
  public void updateBackends(LoadBalancerRef ref, List<Backend> backends) throws ProviderException {
    timed(
        "updateBackends",
        () -> {
          delegate.updateBackends(ref, backends);
          return null;
        });
  }

  @Override
  public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
    timed(
        "ensureDeleted",
        () -> {
          delegate.ensureDeleted(ref);
          return null;
        });
  }

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException {
    return timed("listOwned", () -> delegate.listOwned(clusterName));
  }

  @Override
  public void close() {
    delegate.close();
  }

  private <T> T timed(String operation, Call<T> call) throws ProviderException {
    Timer.Sample sample = Timer.start(registry);
    String result = "error";
    try {
      T value = call.run();
      result = "ok";
      return value;
    } catch (ProviderException e) {
      result =
          switch (e) {
            case ProviderException.InvalidPlan x -> "invalid_plan";
            case ProviderException.Throttled x -> "throttled";
            case ProviderException.Transient x -> "transient";
            case ProviderException.QuotaExceeded x -> "quota_exceeded";
          };
      throw e;
    } finally {
      sample.stop(
          Timer.builder("ferry.provider.calls")
              .description("Provider calls by operation and result")
              .tag("operation", operation)
              .tag("result", result)
              .register(registry));
    }
  }
}
