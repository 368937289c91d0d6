package dev.ferry.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.Backend;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;

/**
 * What real accounts and EKS clusters look like and moto can still express: instances that are gone
 * while their Nodes remain, and node groups with a security group each.
 */
@ExtendWith(MotoServer.class)
class AwsRealAccountTest {

  private static final AwsAccount cloud = AwsAccount.connect();
  private final List<String> warnings = new ArrayList<>();

  private AwsProvider provider() {
    return AwsFixture.provider(
        cloud, (ref, reason, message) -> warnings.add(reason + ": " + message));
  }

  private static Set<String> targets(LoadBalancerRef ref) {
    Set<String> ids = new java.util.TreeSet<>();
    for (TargetGroup tg : cloud.targetGroups()) {
      if (tg.targetGroupName().startsWith(AwsNames.targetGroupPrefix(ref))) {
        ids.addAll(cloud.registeredInstances(tg));
      }
    }
    return ids;
  }

  @Test
  @DisplayName(
      "a Node whose instance was terminated is skipped with a Warning naming it; the rest of the"
          + " Service converges (before: RegisterTargets failed every ensure on AWS)")
  void terminatedInstanceSkipped() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 3);
    String gone = f.instances.get(2).instanceId();
    cloud.ec2.terminateInstances(r -> r.instanceIds(gone));
    LoadBalancerRef ref = AwsFixture.ref("uid-gone");
    try (AwsProvider p = provider()) {
      p.ensure(AwsFixture.plan(ref, f.backends));
    }
    assertThat(targets(ref))
        .containsExactlyInAnyOrder(
            f.instances.get(0).instanceId(), f.instances.get(1).instanceId());
    assertThat(warnings).anyMatch(w -> w.startsWith("NodeNotRegistered") && w.contains(gone));
  }

  @Test
  @DisplayName(
      "nodes in two node groups, each with its own cluster-tagged security group: both groups get"
          + " the Service's rules (before: only the first did, the other group's nodes were"
          + " unreachable)")
  void everyNodeGroupGetsRules() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 2);
    Subnet subnet =
        cloud.ec2.describeSubnets(r -> r.subnetIds(f.instances.get(0).subnetId())).subnets().get(0);
    String second = cloud.nodeSecurityGroup(AwsFixture.CLUSTER, subnet.vpcId());
    List<Instance> other = cloud.launch(1, subnet, second);
    List<Backend> backends = new ArrayList<>(f.backends);
    backends.addAll(AwsAccount.backends(other));
    LoadBalancerRef ref = AwsFixture.ref("uid-groups");
    LoadBalancerPlan plan = AwsFixture.plan(ref, backends);
    try (AwsProvider p = provider()) {
      p.ensure(plan);
    }
    String backend = cloud.loadBalancersFor(ref).get(0).securityGroups().get(1);
    for (String group : List.of(f.securityGroup, second)) {
      assertThat(cloud.groupRulesOf(group))
          .as("the cluster's load balancers admitted in %s", group)
          .containsExactlyInAnyOrder(
              "tcp/30000-32767 from " + backend,
              "udp/30000-32767 from " + backend,
              "tcp/10256-10256 from " + backend);
    }
    assertThat(targets(ref))
        .isEqualTo(
            backends.stream()
                .map(b -> b.providerId().substring(b.providerId().lastIndexOf('/') + 1))
                .collect(Collectors.toSet()));
  }

  /**
   * A second VPC with two subnets tagged for internet-facing NLBs of the cluster, with more free
   * addresses than the default VPC's: only the VPC decides.
   */
  private static List<String> otherVpcSubnets() {
    String vpc = cloud.ec2.createVpc(r -> r.cidrBlock("10.99.0.0/16")).vpc().vpcId();
    List<String> ids = new ArrayList<>();
    for (String zone : List.of("us-east-1a", "us-east-1b")) {
      String id =
          cloud
              .ec2
              .createSubnet(
                  r ->
                      r.vpcId(vpc)
                          .availabilityZone(zone)
                          .cidrBlock(zone.endsWith("a") ? "10.99.0.0/17" : "10.99.128.0/17"))
              .subnet()
              .subnetId();
      cloud.tag(
          List.of(id),
          java.util.Map.of(
              "kubernetes.io/role/elb",
              "1",
              "kubernetes.io/cluster/" + AwsFixture.CLUSTER,
              "shared"));
      ids.add(id);
    }
    return ids;
  }

  @Test
  @DisplayName(
      "an account with two VPCs whose subnets are tagged alike: the NLB goes into the nodes' VPC"
          + " (before: refused as 'more than one VPC'); a subnet annotation naming the other VPC's"
          + " subnet is refused naming both VPCs")
  void subnetsOfTheNodesVpcOnly() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 2);
    String nodesVpc = f.instances.get(0).vpcId();
    List<String> elsewhere = otherVpcSubnets();
    LoadBalancerRef ref = AwsFixture.ref("uid-vpc");
    try (AwsProvider p = provider()) {
      p.ensure(AwsFixture.plan(ref, f.backends));
      var lb = cloud.loadBalancersFor(ref).get(0);
      assertThat(lb.vpcId()).isEqualTo(nodesVpc);
      Set<String> subnets =
          lb.availabilityZones().stream().map(z -> z.subnetId()).collect(Collectors.toSet());
      assertThat(subnets).doesNotContainAnyElementsOf(elsewhere);

      LoadBalancerRef named = AwsFixture.ref("uid-vpc-named");
      LoadBalancerPlan plan = AwsFixture.plan(named, f.backends);
      LoadBalancerPlan wrong =
          plan.toBuilder()
              .annotations(
                  java.util.Map.of(
                      "service.beta.kubernetes.io/aws-load-balancer-subnets", elsewhere.get(0)))
              .build();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> p.ensure(wrong))
          .isInstanceOfSatisfying(
              dev.ferry.spi.ProviderException.InvalidPlan.class,
              e ->
                  assertThat(e.getMessage())
                      .contains(elsewhere.get(0))
                      .contains("not in the cluster's VPC " + nodesVpc));
      assertThat(cloud.loadBalancersFor(named)).isEmpty();
    }
  }

  @Test
  @DisplayName(
      "attributes and tags follow the upstream annotations on every ensure, not only at creation;"
          + " an unchanged re-ensure changes nothing")
  void updatedInPlace() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 2);
    LoadBalancerRef ref = AwsFixture.ref("uid-attrs");
    LoadBalancerPlan plain = AwsFixture.plan(ref, f.backends);
    String p = "service.beta.kubernetes.io/aws-load-balancer-";
    LoadBalancerPlan annotated =
        plain.toBuilder()
            .annotations(
                java.util.Map.of(
                    p + "cross-zone-load-balancing-enabled", "true",
                    p + "proxy-protocol", "*",
                    p + "target-group-attributes", "deregistration_delay.timeout_seconds=30",
                    p + "additional-resource-tags", "team=shop"))
            .build();
    try (AwsProvider provider = provider()) {
      provider.ensure(plain); // made without them
      provider.ensure(annotated); // then annotated: changed in place
      var lb = cloud.loadBalancersFor(ref).get(0);
      assertThat(lbAttributes(lb.loadBalancerArn()))
          .containsEntry("load_balancing.cross_zone.enabled", "true");
      for (TargetGroup tg : cloud.targetGroups()) {
        if (tg.targetGroupName().startsWith(AwsNames.targetGroupPrefix(ref))) {
          assertThat(tgAttributes(tg.targetGroupArn()))
              .containsEntry("proxy_protocol_v2.enabled", "true")
              .containsEntry("deregistration_delay.timeout_seconds", "30");
          assertThat(tags(tg.targetGroupArn())).containsEntry("team", "shop");
        }
      }
      assertThat(tags(lb.loadBalancerArn())).containsEntry("team", "shop");

      List<String> calls = new ArrayList<>();
      provider.api().observer(calls::add);
      provider.ensure(annotated);
      assertThat(calls)
          .filteredOn(c -> !c.startsWith("Describe") && !c.startsWith("Get"))
          .as("an unchanged re-ensure")
          .isEmpty();
    }
  }

  private static java.util.Map<String, String> lbAttributes(String arn) {
    return cloud
        .elb
        .describeLoadBalancerAttributes(r -> r.loadBalancerArn(arn))
        .attributes()
        .stream()
        .collect(Collectors.toMap(a -> a.key(), a -> a.value()));
  }

  private static java.util.Map<String, String> tgAttributes(String arn) {
    return cloud.elb.describeTargetGroupAttributes(r -> r.targetGroupArn(arn)).attributes().stream()
        .collect(Collectors.toMap(a -> a.key(), a -> a.value()));
  }

  private static java.util.Map<String, String> tags(String arn) {
    return cloud.elb.describeTags(r -> r.resourceArns(arn)).tagDescriptions().get(0).tags().stream()
        .collect(Collectors.toMap(t -> t.key(), t -> t.value()));
  }

  @Test
  @DisplayName(
      "a subnet tagged in a zone the NLB does not cover yet is added in place, the same NLB kept"
          + " (before: only at creation)")
  void subnetAddedInPlace() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 2);
    LoadBalancerRef ref = AwsFixture.ref("uid-zones");
    LoadBalancerPlan plan = AwsFixture.plan(ref, f.backends);
    try (AwsProvider p = provider()) {
      p.ensure(plan);
      var before = cloud.loadBalancersFor(ref).get(0);
      assertThat(before.availabilityZones()).hasSize(2);
      Subnet third =
          cloud.ec2.describeSubnets().subnets().stream()
              .filter(Subnet::defaultForAz)
              .filter(
                  s ->
                      before.availabilityZones().stream()
                          .noneMatch(z -> z.zoneName().equals(s.availabilityZone())))
              .findFirst()
              .orElseThrow();
      cloud.tag(List.of(third.subnetId()), java.util.Map.of("kubernetes.io/role/elb", "1"));
      p.ensure(plan);
      var after = cloud.loadBalancersFor(ref).get(0);
      assertThat(after.loadBalancerArn()).isEqualTo(before.loadBalancerArn());
      assertThat(after.availabilityZones())
          .extracting(z -> z.subnetId())
          .hasSize(3)
          .contains(third.subnetId());
    }
  }

  @Test
  @DisplayName(
      "an NLB an earlier Ferry made without security groups keeps working: per-Service node rules,"
          + " no attempt to add groups (AWS allows them only at creation)")
  void nlbWithoutGroupsKeepsWorking() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 2);
    LoadBalancerRef ref = AwsFixture.ref("uid-legacy");
    List<String> subnets =
        cloud.ec2.describeSubnets().subnets().stream()
            .filter(Subnet::defaultForAz)
            .sorted((a, b) -> a.availabilityZone().compareTo(b.availabilityZone()))
            .limit(2)
            .map(Subnet::subnetId)
            .toList();
    cloud.elb.createLoadBalancer(
        r ->
            r.name(AwsNames.loadBalancer(ref))
                .type("network")
                .subnets(subnets)
                .tags(
                    AwsContext.elbTags(
                        java.util.Map.of(
                            "kubernetes.io/cluster/" + AwsFixture.CLUSTER,
                            "owned",
                            "kubernetes.io/service-name",
                            ref.serviceKey(),
                            "ferry.dev/service-uid",
                            ref.uid(),
                            "ferry.dev/cluster",
                            AwsFixture.CLUSTER))));
    List<String> calls = new ArrayList<>();
    try (AwsProvider p = provider()) {
      p.api().observer(calls::add);
      p.ensure(AwsFixture.plan(ref, f.backends));
    }
    var lb = cloud.loadBalancersFor(ref);
    assertThat(lb).hasSize(1);
    assertThat(lb.get(0).securityGroups()).isEmpty();
    assertThat(calls).doesNotContain("SetSecurityGroups", "CreateLoadBalancer");
    assertThat(cloud.rulesOf(f.securityGroup, ref))
        .contains("tcp/30080 from 203.0.113.0/24", "udp/30053 from 203.0.113.0/24");
  }
}
