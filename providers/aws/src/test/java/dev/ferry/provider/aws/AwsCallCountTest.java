package dev.ferry.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.Backend;
import dev.ferry.spi.LoadBalancerPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How many AWS calls the provider makes, by operation: creating a Service with 2 ports on 3 nodes,
 * ensuring it again unchanged (what a restarted controller does once per Service), and a node
 * added. Prints the figures; asserts that the unchanged re-ensure mutates nothing and that a new
 * node costs exactly one RegisterTargets per target group.
 */
@ExtendWith(MotoServer.class)
class AwsCallCountTest {

  private static final AwsAccount cloud = AwsAccount.connect();

  private static boolean mutating(String operation) {
    return !operation.startsWith("Describe");
  }

  private static Map<String, Integer> count(List<String> calls) {
    Map<String, Integer> byOp = new TreeMap<>();
    calls.forEach(c -> byOp.merge(c, 1, Integer::sum));
    return byOp;
  }

  @Test
  @DisplayName(
      "create costs one pass of calls; an unchanged re-ensure makes no mutating call; a new node one RegisterTargets per target group")
  void callCounts() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 4);
    List<Backend> three = f.backends.subList(0, 3);
    LoadBalancerPlan plan = AwsFixture.plan(AwsFixture.ref("uid-counts"), three);
    List<String> calls = new ArrayList<>();
    try (AwsProvider p = f.provider()) {
      p.api().observer(calls::add);

      p.ensure(plan);
      List<String> create = List.copyOf(calls);
      calls.clear();

      p.ensure(plan);
      List<String> idle = List.copyOf(calls);
      calls.clear();

      p.updateBackends(plan.ref(), f.backends);
      List<String> nodeAdded = List.copyOf(calls);

      System.out.printf(
          "AWS calls: create %d (%d mutating) %s%n  unchanged re-ensure %d (%d mutating) %s%n  node added %d (%d mutating) %s%n",
          create.size(),
          create.stream().filter(AwsCallCountTest::mutating).count(),
          count(create),
          idle.size(),
          idle.stream().filter(AwsCallCountTest::mutating).count(),
          count(idle),
          nodeAdded.size(),
          nodeAdded.stream().filter(AwsCallCountTest::mutating).count(),
          count(nodeAdded));

      assertThat(create)
          .contains("CreateLoadBalancer")
          .filteredOn(c -> c.equals("CreateTargetGroup"))
          .hasSize(2);
      assertThat(idle).filteredOn(AwsCallCountTest::mutating).isEmpty();
      assertThat(nodeAdded)
          .filteredOn(AwsCallCountTest::mutating)
          .containsExactly("RegisterTargets", "RegisterTargets");
    }
  }
}
