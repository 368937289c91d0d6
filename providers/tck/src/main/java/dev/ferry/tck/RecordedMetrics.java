package dev.ferry.tck;

import dev.ferry.spi.ProviderMetrics;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;

/**
 * A {@link ProviderMetrics} for a provider's tests: counts what the provider records, by name and
 * labels, so a test can assert that its figures come out as the controller will publish them.
 */
public final class RecordedMetrics implements ProviderMetrics {

  private final Map<String, Long> counts = new ConcurrentHashMap<>();
  private final Map<String, DoubleSupplier> gauges = new ConcurrentHashMap<>();

  @Override
  public void increment(String name, Map<String, String> labels) {
    counts.merge(key(name, labels), 1L, Long::sum);
  }

  @Override
  public void time(String name, Duration elapsed, Map<String, String> labels) {
    counts.merge(key(name, labels), 1L, Long::sum);
  }

  @Override
  public void gauge(String name, Map<String, String> labels, DoubleSupplier value) {
    gauges.put(key(name, labels), value);
  }

  /** How often {@code name} was counted or timed with exactly these labels. */
  public long count(String name, Map<String, String> labels) {
    return counts.getOrDefault(key(name, labels), 0L);
  }

  /** Every recorded figure as {@code name{k=v,...}} to its count. */
  public Map<String, Long> all() {
    return new TreeMap<>(counts);
  }

  /** The gauge's current value; NaN when none was registered. */
  public double gauge(String name, Map<String, String> labels) {
    DoubleSupplier s = gauges.get(key(name, labels));
    return s == null ? Double.NaN : s.getAsDouble();
  }

  private static String key(String name, Map<String, String> labels) {
    return name + new TreeMap<>(labels);
  }
}
