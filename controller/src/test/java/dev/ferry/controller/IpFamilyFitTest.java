package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.IpFamilyPolicy;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.PlanViolation;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * spec.ipFamilyPolicy and spec.ipFamilies against what a provider serves, as upstream means them.
 */
class IpFamilyFitTest {

  private static final Capabilities IPV4_ONLY = Capabilities.builder().sourceRanges(true).build();
  private static final Capabilities DUAL =
      Capabilities.builder()
          .sourceRanges(true)
          .ipFamilies(IpFamily.IPv4, IpFamily.IPv6)
          .dualStack(true)
          .build();
  private static final Capabilities EITHER_NOT_BOTH =
      Capabilities.builder().sourceRanges(true).ipFamilies(IpFamily.IPv4, IpFamily.IPv6).build();

  private static final List<Backend> NODES =
      NodeEligibility.eligibleBackends(
          List.of(
              node("n1", "10.0.0.1", "fd00:10::1"),
              node("n2", "fd00:10::2", "10.0.0.2"),
              node("n3", "10.0.0.3")));

  private static io.fabric8.kubernetes.api.model.Node node(String name, String... addresses) {
    NodeBuilder b = NodeEligibilityTest.node(name);
    b.editStatus().withAddresses(List.of()).endStatus();
    for (String a : addresses) {
      b.editStatus().addNewAddress().withType("InternalIP").withAddress(a).endAddress().endStatus();
    }
    return b.build();
  }

  private static Service service(String policy, String... families) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withNamespace("shop")
        .withName("web")
        .withUid("u-1")
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
        .withIpFamilyPolicy(policy)
        .withIpFamilies(families)
        .addNewPort()
        .withPort(80)
        .withProtocol("TCP")
        .withNodePort(30080)
        .endPort()
        .endSpec()
        .build();
  }

  private static LoadBalancerPlan plan(Service s) {
    return ((Planner.Planned) Planner.plan(s, NODES, new Planner.Settings("prod"))).plan();
  }

  @Test
  @DisplayName(
      "the plan carries spec.ipFamilyPolicy and every client of each family when no range is given;"
          + " each node's address per family from its InternalIPs, IPv4 first")
  void planCarriesFamilies() {
    LoadBalancerPlan p = plan(service("PreferDualStack", "IPv6", "IPv4"));
    assertThat(p.ipFamilyPolicy()).isEqualTo(IpFamilyPolicy.PreferDualStack);
    assertThat(p.ipFamilies()).containsExactly(IpFamily.IPv6, IpFamily.IPv4);
    assertThat(p.sourceRanges()).containsExactly("::/0", "0.0.0.0/0");
    assertThat(p.backends())
        .extracting(Backend::address)
        .containsExactly("10.0.0.1", "10.0.0.2", "10.0.0.3");
    assertThat(p.backends())
        .extracting(b -> b.address(IpFamily.IPv6))
        .containsExactly("fd00:10::1", "fd00:10::2", "");
    assertThat(plan(service("SingleStack", "IPv4")).sourceRanges()).containsExactly("0.0.0.0/0");
  }

  @Test
  @DisplayName(
      "PreferDualStack on an IPv4-only provider: served in IPv4 with a notice naming the family left"
          + " out; its ranges keep their family, and the capability check passes")
  void preferDualStackFallsBack() {
    Service s =
        new ServiceBuilder(service("PreferDualStack", "IPv6", "IPv4"))
            .editSpec()
            .withLoadBalancerSourceRanges("203.0.113.0/24", "2001:db8::/32")
            .endSpec()
            .build();
    IpFamilyFit.Fit fit = IpFamilyFit.fit(plan(s), IPV4_ONLY);
    assertThat(fit.plan().ipFamilies()).containsExactly(IpFamily.IPv4);
    assertThat(fit.plan().sourceRanges()).containsExactly("203.0.113.0/24");
    assertThat(fit.notice())
        .hasValueSatisfying(
            m -> assertThat(m).contains("PreferDualStack", "IPv4 only", "no IPv6 one"));
    assertThat(IPV4_ONLY.violations(fit.plan())).isEmpty();

    // a provider with both families, but not on one load balancer: the first family it serves
    IpFamilyFit.Fit either = IpFamilyFit.fit(plan(s), EITHER_NOT_BOTH);
    assertThat(either.plan().ipFamilies()).containsExactly(IpFamily.IPv6);
    assertThat(either.notice()).hasValueSatisfying(m -> assertThat(m).contains("both families"));

    // a dual-stack provider: both, untouched
    assertThat(IpFamilyFit.fit(plan(s), DUAL).notice()).isEmpty();
    assertThat(IpFamilyFit.fit(plan(s), DUAL).plan()).isEqualTo(plan(s));
  }

  @Test
  @DisplayName(
      "RequireDualStack and SingleStack IPv6 on an IPv4-only provider are refused naming the field"
          + " to change; a dual-stack Service with ranges of one family closes the other")
  void refusals() {
    for (var c :
        List.of(
            List.of("RequireDualStack", "spec.ipFamilyPolicy"),
            List.of("SingleStack", "spec.ipFamilies"))) {
      Service s =
          c.get(0).equals("SingleStack")
              ? service("SingleStack", "IPv6")
              : service("RequireDualStack", "IPv4", "IPv6");
      IpFamilyFit.Fit fit = IpFamilyFit.fit(plan(s), IPV4_ONLY);
      assertThat(fit.notice()).isEmpty();
      assertThat(IPV4_ONLY.violations(fit.plan()))
          .extracting(PlanViolation::field)
          .containsExactly(c.get(1));
    }
    assertThat(EITHER_NOT_BOTH.violations(plan(service("RequireDualStack", "IPv4", "IPv6"))))
        .singleElement()
        .satisfies(v -> assertThat(v.problem()).contains("not both on one load balancer"));

    Service v4Ranges =
        new ServiceBuilder(service("RequireDualStack", "IPv4", "IPv6"))
            .editSpec()
            .withLoadBalancerSourceRanges("203.0.113.0/24")
            .endSpec()
            .build();
    LoadBalancerPlan p = plan(v4Ranges);
    assertThat(p.sourceRanges(IpFamily.IPv4)).containsExactly("203.0.113.0/24");
    assertThat(p.sourceRanges(IpFamily.IPv6)).isEmpty(); // closed, never opened to all
  }

  @Test
  @DisplayName("nodes without an address of a family are named once, only for plans with IPv6")
  void nodesWithoutAddress() {
    assertThat(IpFamilyFit.nodesWithoutAddress(plan(service("RequireDualStack", "IPv4", "IPv6"))))
        .hasValue("n3 has no IPv6 InternalIP and is not a backend of the IPv6 frontend");
    assertThat(IpFamilyFit.nodesWithoutAddress(plan(service("SingleStack", "IPv4")))).isEmpty();
  }
}
