package dev.ferry.spi;

import java.time.Duration;
import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * Where a provider records its own figures: calls to its cloud by operation and result, time spent
 * waiting for a long-running operation, a budget left. The controller backs it with its metrics
 * registry and publishes every figure as {@code ferry_provider_<name>...}, labelled {@code
 * provider=<its name>} plus the labels given, beside its own metrics. A provider keeps no registry
 * of its own and reads no global one.
 *
 * <p>{@code name} and label keys are {@code snake_case} ({@code [a-z][a-z0-9_]*}); keep label
 * values to a small fixed set (an operation name, a result), never an ID. Calls are cheap and
 * thread-safe.
 */
public interface ProviderMetrics {

  /** Records nothing; for tools and tests. */
  ProviderMetrics NONE =
      new ProviderMetrics() {
        @Override
        public void increment(String name, Map<String, String> labels) {}

        @Override
        public void time(String name, Duration elapsed, Map<String, String> labels) {}

        @Override
        public void gauge(String name, Map<String, String> labels, DoubleSupplier value) {}
      };

  /** Counts one event: {@code ferry_provider_<name>_total}. */
  void increment(String name, Map<String, String> labels);

  /** Records how long something took: {@code ferry_provider_<name>_seconds}. */
  void time(String name, Duration elapsed, Map<String, String> labels);

  /** A value read when metrics are scraped: {@code ferry_provider_<name>}. */
  void gauge(String name, Map<String, String> labels, DoubleSupplier value);
}
