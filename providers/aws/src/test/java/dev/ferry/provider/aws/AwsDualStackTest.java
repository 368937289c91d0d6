package dev.ferry.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.IpFamily;
import dev.ferry.spi.IpFamilyPolicy;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.IpAddressType;

/**
 * Dual-stack NLBs on moto, held to AWS's documented rules (a dualstack NLB needs an IPv6 CIDR block
 * in every subnet; an NLB always has IPv4), which moto does not enforce itself: it makes a
 * dualstack NLB in subnets without IPv6. What the frontend security group admits is checked per
 * family: an IPv6 range only while the NLB is dualstack and the Service names it.
 */
@ExtendWith(MotoServer.class)
class AwsDualStackTest {

  private static final AwsAccount cloud = AwsAccount.connect();
  private final List<String> normal = new ArrayList<>();

  private AwsProvider provider() {
    return AwsFixture.provider(
        cloud,
        new ProviderEvents() {
          @Override
          public void warning(LoadBalancerRef ref, String reason, String m) {}

          @Override
          public void normal(LoadBalancerRef ref, String reason, String m) {
            normal.add(reason + ": " + m);
          }
        });
  }

  private static LoadBalancerPlan dual(
      AwsFixture f, String uid, IpFamilyPolicy policy, Map<String, String> annotations) {
    return AwsFixture.plan(AwsFixture.ref(uid), f.backends).toBuilder()
        .ipFamilies(List.of(IpFamily.IPv4, IpFamily.IPv6))
        .ipFamilyPolicy(policy)
        .sourceRanges(List.of("203.0.113.0/24", "2001:db8::/32"))
        .annotations(annotations)
        .build();
  }

  private static IpAddressType type(String uid) {
    return cloud.loadBalancersFor(AwsFixture.ref(uid)).get(0).ipAddressType();
  }

  private static List<String> frontend(String uid) {
    return cloud.frontendGroupOf(cloud.loadBalancersFor(AwsFixture.ref(uid)).get(0)).stream()
        .sorted()
        .toList();
  }

  @Test
  @DisplayName(
      "RequireDualStack in IPv6 subnets: a dualstack NLB whose frontend admits each family's ranges;"
          + " back to IPv4: the NLB turns ipv4 and its IPv6 rules go")
  void dualstackAndBack() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 2);
    cloud.ipv6(cloud.tagSubnets(AwsFixture.CLUSTER));
    LoadBalancerPlan plan = dual(f, "uid-ds-1", IpFamilyPolicy.RequireDualStack, Map.of());
    try (AwsProvider p = provider()) {
      p.ensure(plan);
      assertThat(type("uid-ds-1")).isEqualTo(IpAddressType.DUALSTACK);
      assertThat(frontend("uid-ds-1"))
          .containsExactly(
              "tcp/80 from 2001:db8::/32",
              "tcp/80 from 203.0.113.0/24",
              "udp/53 from 2001:db8::/32",
              "udp/53 from 203.0.113.0/24");
      p.ensure(
          plan.toBuilder()
              .ipFamilies(List.of(IpFamily.IPv4))
              .ipFamilyPolicy(IpFamilyPolicy.SingleStack)
              .build());
      assertThat(type("uid-ds-1")).isEqualTo(IpAddressType.IPV4);
      assertThat(frontend("uid-ds-1"))
          .as("an IPv4 NLB admits no IPv6 range")
          .containsExactly("tcp/80 from 203.0.113.0/24", "udp/53 from 203.0.113.0/24");
      p.ensureDeleted(plan.ref());
    }
  }

  @Test
  @DisplayName(
      "subnets without IPv6: RequireDualStack refused naming them and nothing is made;"
          + " PreferDualStack gets an IPv4 NLB and a Normal event saying why; SingleStack IPv6"
          + " refused on spec.ipFamilies")
  void subnetsWithoutIpv6() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 2);
    Subnet node =
        cloud.ec2.describeSubnets(r -> r.subnetIds(f.instances.get(0).subnetId())).subnets().get(0);
    String plain =
        cloud
            .ec2
            .createSubnet(
                r ->
                    r.vpcId(node.vpcId())
                        .cidrBlock("172.31.250.0/24")
                        .availabilityZone(node.availabilityZone()))
            .subnet()
            .subnetId();
    Map<String, String> named = Map.of(AwsOptions.SUBNETS, plain);
    try (AwsProvider p = provider()) {
      assertThatThrownBy(
              () -> p.ensure(dual(f, "uid-ds-2", IpFamilyPolicy.RequireDualStack, named)))
          .isInstanceOfSatisfying(
              ProviderException.InvalidPlan.class,
              e ->
                  assertThat(e.violations())
                      .singleElement()
                      .satisfies(
                          v -> {
                            assertThat(v.field()).isEqualTo("spec.ipFamilyPolicy");
                            assertThat(v.problem()).contains(plain, "no IPv6 CIDR block");
                          }));
      assertThat(cloud.loadBalancersFor(AwsFixture.ref("uid-ds-2"))).isEmpty();

      LoadBalancerPlan prefer = dual(f, "uid-ds-3", IpFamilyPolicy.PreferDualStack, named);
      p.ensure(prefer);
      assertThat(p.inStep(List.of(prefer))).containsKey(prefer.ref()); // no repeat of the event
      assertThat(type("uid-ds-3")).isEqualTo(IpAddressType.IPV4);
      assertThat(frontend("uid-ds-3")).noneMatch(r -> r.contains(":"));
      assertThat(normal)
          .singleElement()
          .asString()
          .startsWith("IPFamilyNotServed: spec.ipFamilyPolicy is PreferDualStack")
          .contains(plain);
      p.ensureDeleted(AwsFixture.ref("uid-ds-3"));

      LoadBalancerPlan v6 =
          AwsFixture.plan(AwsFixture.ref("uid-ds-4"), f.backends).toBuilder()
              .ipFamilies(List.of(IpFamily.IPv6))
              .sourceRanges(List.of("::/0"))
              .build();
      assertThatThrownBy(() -> p.ensure(v6))
          .isInstanceOfSatisfying(
              ProviderException.InvalidPlan.class,
              e ->
                  assertThat(e.violations())
                      .extracting(PlanViolation::field)
                      .containsExactly("spec.ipFamilies"));
      assertThat(cloud.loadBalancersFor(AwsFixture.ref("uid-ds-4"))).isEmpty();
    }
  }
}
