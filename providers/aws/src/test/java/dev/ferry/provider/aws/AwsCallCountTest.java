package dev.ferry.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.Backend;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.tck.RecordedMetrics;
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
    return !operation.startsWith("Describe") && !operation.startsWith("Get");
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
    RecordedMetrics metrics = new RecordedMetrics();
    try (AwsProvider p = f.provider(metrics)) {
      p.api().observer(calls::add);

      p.ensure(plan);
      List<String> create = List.copyOf(calls);
      calls.clear();

      p.ensure(plan);
      List<String> idle = List.copyOf(calls);
      calls.clear();

      p.updateBackends(plan.ref(), f.backends);
      List<String> nodeAdded = List.copyOf(calls);
      calls.clear();

      p.ensureDeleted(plan.ref());
      List<String> delete = List.copyOf(calls);
      System.out.printf(
          "  delete %d (%d mutating) %s%n",
          delete.size(), delete.stream().filter(AwsCallCountTest::mutating).count(), count(delete));
      // found by name and tag: no page through every target group or security group of the region
      assertThat(delete).doesNotContain("DescribeTargetGroups").contains("GetResources");
      assertThat(delete)
          .filteredOn(AwsCallCountTest::mutating)
          .containsExactlyInAnyOrder(
              "DeleteLoadBalancer",
              "DeleteTargetGroup",
              "DeleteTargetGroup",
              "DeleteSecurityGroup",
              // the last NLB of the cluster: the node groups stop admitting the backend group,
              // which goes too
              "RevokeSecurityGroupIngress",
              "DeleteSecurityGroup");

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
      // a lookup of what is not there yet is not an error (moto answers TargetGroupNotFound)
      // (counted through the controller's metrics hook: ferry_provider_cloud_calls_total)
      assertThat(
              metrics.count(
                  "cloud_calls",
                  Map.of("operation", "DescribeTargetGroups", "result", "not_found")))
          .isPositive();
      assertThat(
              metrics.count(
                  "cloud_calls", Map.of("operation", "CreateLoadBalancer", "result", "ok")))
          .isEqualTo(1);
      assertThat(metrics.all().keySet()).noneMatch(k -> k.contains("result=error"));
      assertThat(nodeAdded)
          .filteredOn(AwsCallCountTest::mutating)
          .containsExactly("RegisterTargets", "RegisterTargets");
    }
  }

  @Test
  @DisplayName(
      "a resync round over 20 unchanged Services: no mutating call, a bounded number of reads"
          + " per load balancer, and the healthy backend count in the status")
  void resyncRound() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 3);
    List<LoadBalancerPlan> plans = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      LoadBalancerPlan p = AwsFixture.plan(AwsFixture.ref("uid-resync-" + i), f.backends);
      int shift = 100 + 2 * i; // NodePorts are unique in a cluster
      plans.add(AwsFixture.nodePortsShifted(p, shift));
    }
    List<String> calls = new ArrayList<>();
    try (AwsProvider builder = f.provider();
        AwsProvider p = f.provider()) {
      builder.api().unpaced(); // moto has no limits; the check below runs paced as in production
      for (LoadBalancerPlan plan : plans) {
        builder.ensure(plan);
      }
      p.api().observer(calls::add);
      // what one --resync-period does for every Service: one batched, read-only check
      Map<dev.ferry.spi.LoadBalancerRef, dev.ferry.spi.LoadBalancerStatus> inStep = p.inStep(plans);
      System.out.printf(
          "AWS resync round, 20 Services (2 ports, 3 nodes each): %d calls (%d mutating), %.1f"
              + " reads per load balancer: %s%n",
          calls.size(),
          calls.stream().filter(AwsCallCountTest::mutating).count(),
          calls.size() / 20.0,
          count(calls));
      assertThat(calls).filteredOn(AwsCallCountTest::mutating).isEmpty();
      assertThat(calls).filteredOn("DescribeLoadBalancers"::equals).hasSize(1);
      // per load balancer: its tags, target groups, targets, listeners, its own security group
      assertThat(calls.size()).isLessThanOrEqualTo(20 * 7);
      assertThat(inStep).hasSize(20);
      assertThat(inStep.values())
          .allSatisfy(
              s ->
                  assertThat(s.backendHealth())
                      .hasValue(new dev.ferry.spi.LoadBalancerStatus.BackendHealth(3, 3)));

      // drift behind Ferry's back: a listener deleted, a target deregistered
      var lb = cloud.loadBalancersFor(plans.get(3).ref()).get(0);
      cloud.elb.deleteListener(r -> r.listenerArn(cloud.listeners(lb).get(0).listenerArn()));
      var tg =
          cloud.targetGroups().stream()
              .filter(
                  g ->
                      g.loadBalancerArns()
                          .contains(
                              cloud.loadBalancersFor(plans.get(7).ref()).get(0).loadBalancerArn()))
              .findFirst()
              .orElseThrow();
      cloud.elb.deregisterTargets(
          r ->
              r.targetGroupArn(tg.targetGroupArn())
                  .targets(t -> t.id(AwsShape.instanceId(f.backends.get(0)))));
      calls.clear();
      Map<dev.ferry.spi.LoadBalancerRef, dev.ferry.spi.LoadBalancerStatus> after = p.inStep(plans);
      assertThat(calls).filteredOn(AwsCallCountTest::mutating).isEmpty();
      assertThat(after.keySet()).hasSize(18).doesNotContain(plans.get(3).ref(), plans.get(7).ref());
      // the controller then ensures the two: repaired
      p.ensure(plans.get(3));
      p.ensure(plans.get(7));
      assertThat(p.inStep(plans)).hasSize(20);
      for (LoadBalancerPlan plan : plans) {
        builder.ensureDeleted(plan.ref());
      }
    }
  }

  @Test
  @DisplayName(
      "50 Services: the node group's rules stay 3 (the cluster's load balancers on the NodePort"
          + " range and kube-proxy's port), each Service's clients are in its NLB's own group")
  void securityGroupRulesDoNotGrow() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 3);
    int before = cloud.groupRulesOf(f.securityGroup).size();
    try (AwsProvider p = f.provider()) {
      p.api().unpaced(); // moto has no limits
      for (int i = 0; i < 50; i++) {
        LoadBalancerPlan plan = AwsFixture.plan(AwsFixture.ref("uid-many-" + i), f.backends);
        int shift = 2 * i; // NodePorts are unique in a cluster
        p.ensure(AwsFixture.nodePortsShifted(plan, shift));
        if (i == 0 || i == 49) {
          int nodeRules =
              cloud
                  .ec2
                  .describeSecurityGroups(r -> r.groupIds(f.securityGroup))
                  .securityGroups()
                  .get(0)
                  .ipPermissions()
                  .stream()
                  .mapToInt(x -> x.ipRanges().size() + x.userIdGroupPairs().size())
                  .sum();
          System.out.printf(
              "security-group rules on the node group after %d Services: %d%n", i + 1, nodeRules);
          assertThat(nodeRules).isEqualTo(before + 3);
        }
      }
      var last = cloud.loadBalancersFor(AwsFixture.ref("uid-many-49")).get(0);
      assertThat(cloud.frontendGroupOf(last))
          .containsExactlyInAnyOrder("tcp/80 from 203.0.113.0/24", "udp/53 from 203.0.113.0/24");
    }
  }
}
