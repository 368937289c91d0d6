package dev.ferry.controller;

import dev.ferry.spi.ProviderMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.regex.Pattern;

/**
 * The controller's side of {@link ProviderMetrics}: every figure a provider records becomes a meter
 * {@code ferry_provider_<name>} on the controller's registry, labelled {@code provider=<name>}. A
 * malformed name is refused with an {@link IllegalArgumentException} naming it (a provider bug that
 * its first test shows), never silently renamed.
 */
final class MicrometerProviderMetrics implements ProviderMetrics {

  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");

  private final MeterRegistry registry;
  private final String provider;

  MicrometerProviderMetrics(MeterRegistry registry, String provider) {
    this.registry = registry;
    this.provider = provider;
  }

  @Override
  public void increment(String name, Map<String, String> labels) {
    Counter.builder(meter(name)).tags(tags(labels)).register(registry).increment();
  }

  @Override
  public void time(String name, Duration elapsed, Map<String, String> labels) {
    Timer.builder(meter(name)).tags(tags(labels)).register(registry).record(elapsed);
  }

  @Override
  public void gauge(String name, Map<String, String> labels, DoubleSupplier value) {
    Gauge.builder(meter(name), value::getAsDouble).tags(tags(labels)).register(registry);
  }

  private static String meter(String name) {
    check(name, "metric name");
    return "ferry.provider." + name;
  }

  private Tags tags(Map<String, String> labels) {
    List<Tag> tags = new ArrayList<>(labels.size() + 1);
    labels.forEach(
        (k, v) -> {
          check(k, "label");
          if (k.equals("provider")) {
            throw new IllegalArgumentException("the label 'provider' is the controller's own");
          }
          tags.add(Tag.of(k, v));
        });
    tags.add(Tag.of("provider", provider));
    return Tags.of(tags);
  }

  private static void check(String name, String what) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(what + " '" + name + "' is not snake_case");
    }
  }
}
