package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MicrometerProviderMetricsTest {

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final MicrometerProviderMetrics metrics = new MicrometerProviderMetrics(registry, "acme");

  @Test
  @DisplayName("a provider's figures come out as ferry_provider_*, labelled with the provider")
  void publishedLabelled() {
    metrics.increment("cloud_calls", Map.of("operation", "CreateThing", "result", "ok"));
    metrics.increment("cloud_calls", Map.of("operation", "CreateThing", "result", "ok"));
    metrics.time("operation_wait", Duration.ofMillis(1500), Map.of("kind", "regional"));
    metrics.gauge("budget_left", Map.of(), () -> 42);
    String scraped = registry.scrape();
    assertThat(scraped)
        .contains(
            "ferry_provider_cloud_calls_total{operation=\"CreateThing\",provider=\"acme\",result=\"ok\"} 2.0")
        .contains(
            "ferry_provider_operation_wait_seconds_count{kind=\"regional\",provider=\"acme\"} 1")
        .contains("ferry_provider_budget_left{provider=\"acme\"} 42.0");
  }

  @Test
  @DisplayName("a malformed name, or the controller's own 'provider' label, is refused")
  void malformedRefused() {
    assertThatThrownBy(() -> metrics.increment("Cloud-Calls", Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Cloud-Calls");
    assertThatThrownBy(() -> metrics.increment("calls", Map.of("provider", "x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'provider'");
  }
}
