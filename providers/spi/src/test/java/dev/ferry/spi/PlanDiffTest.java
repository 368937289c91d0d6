package dev.ferry.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PlanDiffTest {

  private static final LoadBalancerRef REF = new LoadBalancerRef("c", "ns", "web", "uid-1");
  private static final HealthCheck TCP =
      new HealthCheck(
          HealthCheck.Type.TCP,
          HealthCheck.TRAFFIC_PORT,
          "",
          Duration.ofSeconds(10),
          Duration.ofSeconds(5),
          2,
          3);

  private static LoadBalancerPlan plan(HealthCheck hc, List<Backend> nodes, Listener... ls) {
    return LoadBalancerPlan.builder(REF, List.of(ls), hc).backends(nodes).build();
  }

  @Test
  @DisplayName(
      "a listener added, removed or moved to another NodePort, nodes and the check: a line each")
  void lines() {
    Backend a = new Backend("a", "", "10.0.0.1", "");
    Backend b = new Backend("b", "", "10.0.0.2", "");
    LoadBalancerPlan have =
        plan(
            TCP,
            List.of(a),
            new Listener("x", Protocol.TCP, 80, 31000),
            new Listener("y", Protocol.TCP, 81, 31001));
    HealthCheck http =
        new HealthCheck(
            HealthCheck.Type.HTTP,
            10256,
            "/healthz",
            Duration.ofSeconds(8),
            Duration.ofSeconds(1),
            1,
            3);
    LoadBalancerPlan want =
        plan(
            http,
            List.of(a, b),
            new Listener("http", Protocol.TCP, 80, 31005),
            new Listener("dns", Protocol.UDP, 53, 31053));
    assertThat(PlanDiff.between(have, want))
        .containsExactly(
            "listener 53/UDP: added, to NodePort 31053",
            "listener 80/TCP: to NodePort 31005 (was 31000)",
            "listener 81/TCP: removed",
            "backends added: 10.0.0.2",
            "health check: HTTP :10256/healthz every 8s, timeout 1s, healthy after 1, unhealthy"
                + " after 3 (was TCP the traffic port every 10s, timeout 5s, healthy after 2,"
                + " unhealthy after 3)");
    assertThat(PlanDiff.between(want, want)).isEmpty();
    // a listener's name is no difference
    assertThat(
            PlanDiff.between(
                plan(TCP, List.of(a), new Listener("legacy", Protocol.TCP, 80, 31000)),
                plan(TCP, List.of(a), new Listener("http", Protocol.TCP, 80, 31000))))
        .isEmpty();
  }
}
