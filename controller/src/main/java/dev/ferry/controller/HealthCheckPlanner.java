package dev.ferry.controller;

import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.HealthCheckDefaults;
import dev.ferry.spi.PlanViolation;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The health check part of a plan, from the Service's spec and annotations. */
final class HealthCheckPlanner {

  private HealthCheckPlanner() {}

  /**
   * The check of a Service's nodes: kube-proxy's health endpoint, or the Service's
   * healthCheckNodePort under {@code externalTrafficPolicy: Local}; its timing from the
   * annotations, else the cloud's defaults, else Ferry's. Null, with the violations added, when the
   * annotations are invalid.
   */
  static HealthCheck plan(
      ServiceSpec spec,
      boolean local,
      Map<String, String> annotations,
      Optional<HealthCheckDefaults> cloudDefaults,
      List<PlanViolation> violations) {
    HealthCheckDefaults d =
        cloudDefaults.orElse(
            new HealthCheckDefaults(
                Duration.ofSeconds(10), Duration.ofSeconds(5), 2, local ? 2 : 3));
    int interval =
        positiveInt(
            annotations, Planner.HC_INTERVAL, (int) d.interval().toSeconds(), 300, violations);
    int timeout =
        positiveInt(
            annotations, Planner.HC_TIMEOUT, (int) d.timeout().toSeconds(), 120, violations);
    int healthy =
        positiveInt(annotations, Planner.HC_HEALTHY, d.healthyThreshold(), 10, violations);
    int unhealthy =
        positiveInt(annotations, Planner.HC_UNHEALTHY, d.unhealthyThreshold(), 10, violations);
    if (timeout > interval) {
      violations.add(
          new PlanViolation(
              "metadata.annotations[" + Planner.HC_TIMEOUT + "]",
              "timeout " + timeout + "s exceeds the interval " + interval + "s; make it shorter"));
    }
    // Cluster policy: kube-proxy's health endpoint, as KEP-3836 recommends for every protocol (it
    // fails when the node is going away or kube-proxy is down; UDP cannot be checked on its port)
    int port = Planner.KUBE_PROXY_HEALTH_PORT;
    if (local) {
      Integer hcnp = spec.getHealthCheckNodePort();
      if (hcnp == null || hcnp < 1 || hcnp > 65535) {
        violations.add(
            new PlanViolation(
                "spec.healthCheckNodePort",
                "externalTrafficPolicy Local needs a healthCheckNodePort"));
        return null;
      }
      port = hcnp;
    }
    if (!violations.isEmpty()) {
      return null;
    }
    return new HealthCheck(
        HealthCheck.Type.HTTP,
        port,
        "/healthz",
        Duration.ofSeconds(interval),
        Duration.ofSeconds(timeout),
        healthy,
        unhealthy);
  }

  private static int positiveInt(
      Map<String, String> annotations,
      String key,
      int fallback,
      int max,
      List<PlanViolation> violations) {
    String text = annotations.get(key);
    if (text == null) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(text.trim());
      if (value >= 1 && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    violations.add(
        new PlanViolation(
            "metadata.annotations[" + key + "]",
            "'" + text + "' is not a whole number from 1 to " + max));
    return fallback;
  }
}
