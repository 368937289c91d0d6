package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.protobuf.Message;
import dev.ferry.spi.Backend;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.IpFamilyPolicy;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.ProviderException;
import dev.ferry.tck.RecordedEvents;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Dual-stack on GCP, as GKE's NetLB builds it: an IPv6 forwarding rule per protocol on an IPv6
 * range of the nodes' subnet, on the same backend services; IPv6 firewalls. A subnet without
 * external IPv6 serves a PreferDualStack Service in IPv4 with an event, and refuses the rest.
 */
class GcpDualStackTest {

  private static final String CLUSTER = "prod-eu";
  private static final LoadBalancerRef REF =
      new LoadBalancerRef(CLUSTER, "shop", "web", "0000-uid-v6");

  private final ComputeFake fake = GcpFixture.start();
  private final List<Backend> nodes = GcpFixture.nodes(fake, 3);
  private final RecordedEvents events = new RecordedEvents();
  private final GcpProvider provider =
      GcpFixture.provider(fake, ProviderContext.builder(CLUSTER).events(events));

  @AfterEach
  void close() {
    provider.close();
    fake.close();
  }

  private LoadBalancerPlan plan(IpFamilyPolicy policy, IpFamily... families) {
    return LoadBalancerPlan.builder(
            REF,
            List.of(
                new Listener("http", Protocol.TCP, 80, 30080),
                new Listener("dns", Protocol.UDP, 53, 30053)),
            new dev.ferry.spi.HealthCheck(
                dev.ferry.spi.HealthCheck.Type.HTTP,
                10256,
                "/healthz",
                Duration.ofSeconds(8),
                Duration.ofSeconds(1),
                1,
                3))
        .backends(nodes)
        .ipFamilies(List.of(families))
        .ipFamilyPolicy(policy)
        .build();
  }

  private <T extends Message> List<T> ferry(String collection, Class<T> type) {
    return fake.ferrys(collection, type);
  }

  private static List<String> ips(LoadBalancerStatus s) {
    return s.ingress().stream().map(i -> i.ip().orElseThrow()).toList();
  }

  @Test
  @DisplayName(
      "RequireDualStack [IPv6, IPv4] on a dual-stack subnet: an IPv6 rule per protocol (ipVersion"
          + " IPV6, its /96, the nodes' subnet, Premium) on the same backend services, IPv6"
          + " firewalls to the IPv6 address and from Google's IPv6 probers; status IPv6 first, and"
          + " a fresh provider finds it so")
  void bothFamilies() throws Exception {
    GkeProject.dualStack(fake);
    LoadBalancerStatus status =
        provider.ensure(plan(IpFamilyPolicy.RequireDualStack, IpFamily.IPv6, IpFamily.IPv4));
    List<String> ips = ips(status);
    assertThat(ips).hasSize(2);
    assertThat(IpFamily.of(ips.get(0))).isEqualTo(IpFamily.IPv6);
    assertThat(ips.get(0)).startsWith("2600:1900:4010:5a:").doesNotContain("/");
    assertThat(IpFamily.of(ips.get(1))).isEqualTo(IpFamily.IPv4);
    List<ForwardingRule> v6 =
        ferry("forwardingRules", ForwardingRule.class).stream()
            .filter(r -> r.getIpVersion().equals("IPV6"))
            .toList();
    assertThat(v6).hasSize(2);
    for (ForwardingRule r : v6) {
      assertThat(r.getName()).endsWith("-ipv6");
      assertThat(r.getIPAddress()).isEqualTo(ips.get(0) + "/96");
      assertThat(r.getSubnetwork()).endsWith("/subnetworks/" + GkeProject.SUBNET);
      assertThat(r.getNetworkTier()).isEqualTo("PREMIUM");
      assertThat(r.getBackendService())
          .endsWith(GcpNames.forProtocol(REF, r.getIPProtocol()))
          .as("one backend service per protocol, for both families");
    }
    assertThat(ferry("backendServices", com.google.cloud.compute.v1.BackendService.class))
        .hasSize(2);
    Firewall clients =
        (Firewall)
            fake.get(
                GkeProject.project()
                    + "/global/firewalls/"
                    + GcpNames.clientFirewall(REF)
                    + "-ipv6");
    assertThat(clients.getSourceRangesList()).containsExactly("::/0");
    assertThat(clients.getDestinationRangesList()).containsExactly(ips.get(0));
    Firewall probers =
        (Firewall)
            fake.get(
                GkeProject.project()
                    + "/global/firewalls/"
                    + GcpNames.nodeHealthFirewall(CLUSTER)
                    + "-ipv6");
    assertThat(probers.getSourceRangesList()).containsExactly("2600:1901:8001::/48");
    assertThat(
            Exposure.violations(
                fake,
                Map.of(
                    REF.uid(), plan(IpFamilyPolicy.RequireDualStack, IpFamily.IPv6, IpFamily.IPv4)),
                GkeProject.clusterVms(fake)))
        .isEmpty();

    GcpProvider fresh = GcpFixture.provider(fake, ProviderContext.builder(CLUSTER));
    assertThat(fresh.find(REF).map(GcpDualStackTest::ips)).hasValue(ips);
    fresh.ensureDeleted(REF);
    assertThat(ferry("forwardingRules", ForwardingRule.class)).isEmpty();
    assertThat(ferry("addresses", Address.class)).isEmpty();
    assertThat(ferry("firewalls", Firewall.class)).as("the shared IPv6 probers' one too").isEmpty();
  }

  @Test
  @DisplayName(
      "PreferDualStack on GKE's IPv4-only subnet: an IPv4 address and a Normal IPFamilyNotServed"
          + " event naming the subnet; once the subnet is dual-stack, the next ensure adds IPv6")
  void preferOnIpv4OnlySubnet() throws Exception {
    LoadBalancerPlan prefer = plan(IpFamilyPolicy.PreferDualStack, IpFamily.IPv4, IpFamily.IPv6);
    LoadBalancerStatus status = provider.ensure(prefer);
    assertThat(ips(status)).singleElement().satisfies(ip -> assertThat(ip).doesNotContain(":"));
    assertThat(events.normal())
        .singleElement()
        .asString()
        .startsWith("IPFamilyNotServed: spec.ipFamilyPolicy is PreferDualStack")
        .contains("subnet " + GkeProject.SUBNET + " has no external IPv6 range");
    assertThat(ferry("addresses", Address.class)).hasSize(1);

    GkeProject.dualStack(fake);
    List<String> both = ips(provider.ensure(prefer));
    assertThat(both).hasSize(2).startsWith(ips(status).get(0));
    assertThat(provider.find(REF).map(GcpDualStackTest::ips)).hasValue(both);
  }

  @Test
  @DisplayName(
      "RequireDualStack on an IPv4-only subnet, or under the STANDARD tier: refused naming"
          + " spec.ipFamilyPolicy, nothing made")
  void requireRefused() {
    assertThatThrownBy(
            () ->
                provider.ensure(
                    plan(IpFamilyPolicy.RequireDualStack, IpFamily.IPv4, IpFamily.IPv6)))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e -> assertThat(e.violations().get(0).field()).isEqualTo("spec.ipFamilyPolicy"));
    GkeProject.dualStack(fake);
    LoadBalancerPlan standard =
        plan(IpFamilyPolicy.RequireDualStack, IpFamily.IPv4, IpFamily.IPv6).toBuilder()
            .annotations(Map.of(GcpAddresses.TIER, "Standard"))
            .build();
    assertThatThrownBy(() -> provider.ensure(standard))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e -> assertThat(e.getMessage()).contains("IPv6 is Premium tier only"));
    assertThat(ferry("addresses", Address.class)).isEmpty();
    assertThat(ferry("forwardingRules", ForwardingRule.class)).isEmpty();
  }

  @Test
  @DisplayName(
      "SingleStack IPv6: only an IPv6 range and IPv6 rules; IPv4 added (PreferDualStack) then"
          + " dropped again leaves the IPv6 address as it was")
  void ipv6Only() throws Exception {
    GkeProject.dualStack(fake);
    List<String> one = ips(provider.ensure(plan(IpFamilyPolicy.SingleStack, IpFamily.IPv6)));
    assertThat(one).singleElement().satisfies(ip -> assertThat(ip).contains(":"));
    assertThat(ferry("addresses", Address.class))
        .singleElement()
        .satisfies(a -> assertThat(a.getIpVersion()).isEqualTo("IPV6"));
    List<String> two =
        ips(provider.ensure(plan(IpFamilyPolicy.PreferDualStack, IpFamily.IPv6, IpFamily.IPv4)));
    assertThat(two).hasSize(2).startsWith(one.get(0));
    assertThat(ips(provider.ensure(plan(IpFamilyPolicy.SingleStack, IpFamily.IPv6))))
        .isEqualTo(one);
    assertThat(ferry("addresses", Address.class)).hasSize(1);
    assertThat(provider.find(REF).map(GcpDualStackTest::ips)).hasValue(one);
    assertThat(events.warnings()).isEmpty();
  }
}
