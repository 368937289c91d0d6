package dev.ferry.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;

/**
 * The provider is stopped right after each of its cloud calls in turn (the call took effect, its
 * answer is lost, as in a crash), then a fresh provider instance runs the same operation again.
 * Every crash point must converge to exactly one load balancer with its target groups, listeners,
 * targets and rules; and after delete, to nothing tagged for the Service.
 */
class AwsCrashSafetyTest {

  private static final AwsAccount cloud = AwsAccount.connect();

  /** Thrown by the observer to stop the provider mid-operation. */
  static final class SimulatedCrash extends RuntimeException {
    SimulatedCrash(String operation) {
      super("crash after " + operation);
    }
  }

  private interface Operation {
    void run(AwsProvider provider, LoadBalancerPlan plan) throws Exception;
  }

  /** The operations one clean run makes, in order. */
  private List<String> callsOf(boolean ensureFirst, Operation op) throws Exception {
    MotoServer.reset();
    AwsFixture f = new AwsFixture(cloud, 3);
    LoadBalancerPlan plan = AwsFixture.plan(AwsFixture.ref("uid-count"), f.backends);
    List<String> calls = new ArrayList<>();
    try (AwsProvider p = f.provider()) {
      if (ensureFirst) {
        p.ensure(plan);
      }
      p.api().observer(calls::add);
      op.run(p, plan);
    }
    return calls;
  }

  private static void crashAt(AwsProvider p, int n) {
    int[] seen = {0};
    p.api()
        .observer(
            operation -> {
              if (++seen[0] == n) {
                throw new SimulatedCrash(operation);
              }
            });
  }

  @Test
  @DisplayName(
      "ensure interrupted after any of its calls converges to exactly one complete load balancer")
  void ensureCrashPoints() throws Exception {
    List<String> calls = callsOf(false, (p, plan) -> p.ensure(plan));
    System.out.printf("ensure makes %d calls: %s%n", calls.size(), calls);
    for (int n = 1; n <= calls.size(); n++) {
      MotoServer.reset();
      AwsFixture f = new AwsFixture(cloud, 3);
      LoadBalancerRef ref = AwsFixture.ref("uid-" + n);
      LoadBalancerPlan plan = AwsFixture.plan(ref, f.backends);
      try (AwsProvider first = f.provider()) {
        crashAt(first, n);
        assertThatThrownBy(() -> first.ensure(plan))
            .as("crash point %d", n)
            .isInstanceOf(SimulatedCrash.class);
      }
      try (AwsProvider restarted = f.provider()) {
        restarted.ensure(plan);
      }
      assertComplete(f, ref, "after a crash at call " + n + " (" + calls.get(n - 1) + ")");
    }
  }

  @Test
  @DisplayName(
      "ensureDeleted interrupted after any of its calls leaves nothing tagged once run again")
  void deleteCrashPoints() throws Exception {
    List<String> calls = callsOf(true, (p, plan) -> p.ensureDeleted(plan.ref()));
    System.out.printf("ensureDeleted makes %d calls: %s%n", calls.size(), calls);
    for (int n = 1; n <= calls.size(); n++) {
      MotoServer.reset();
      AwsFixture f = new AwsFixture(cloud, 3);
      LoadBalancerRef ref = AwsFixture.ref("uid-" + n);
      LoadBalancerPlan plan = AwsFixture.plan(ref, f.backends);
      try (AwsProvider first = f.provider()) {
        first.ensure(plan);
        crashAt(first, n);
        assertThatThrownBy(() -> first.ensureDeleted(ref))
            .as("crash point %d", n)
            .isInstanceOf(SimulatedCrash.class);
      }
      try (AwsProvider restarted = f.provider()) {
        restarted.ensureDeleted(ref);
        assertThat(restarted.find(ref)).isEmpty();
      }
      assertThat(cloud.loadBalancers()).as("load balancers after crash %d", n).isEmpty();
      assertThat(cloud.targetGroups()).as("target groups after crash %d", n).isEmpty();
      assertThat(cloud.rulesOf(f.securityGroup, ref)).as("rules after crash %d", n).isEmpty();
    }
  }

  private static void assertComplete(AwsFixture f, LoadBalancerRef ref, String when) {
    List<LoadBalancer> lbs = cloud.loadBalancers();
    assertThat(lbs).as("load balancers " + when).hasSize(1);
    List<TargetGroup> tgs = cloud.targetGroups();
    assertThat(tgs).as("target groups " + when).hasSize(2);
    assertThat(cloud.listeners(lbs.get(0))).as("listeners " + when).hasSize(2);
    List<String> ids = f.instances.stream().map(i -> i.instanceId()).toList();
    for (TargetGroup tg : tgs) {
      assertThat(cloud.registeredInstances(tg))
          .as("targets " + when)
          .containsExactlyInAnyOrderElementsOf(ids);
    }
    assertThat(cloud.rulesOf(f.securityGroup, ref))
        .as("rules " + when)
        .containsExactlyInAnyOrder(
            "tcp/30080 from 203.0.113.0/24",
            "udp/30053 from 203.0.113.0/24",
            "tcp/30080 from 172.31.0.0/16");
  }
}
