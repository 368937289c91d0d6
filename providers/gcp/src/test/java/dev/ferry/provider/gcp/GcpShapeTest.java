package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.IpFamilyPolicy;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The GCP shape of a plan, by value: names, rules per protocol, checks, firewalls, nodes. */
class GcpShapeTest {

  private static final LoadBalancerRef REF =
      new LoadBalancerRef("prod-eu", "shop", "web", "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
  private static final List<Backend> NODES =
      List.of(
          new Backend("n1", "gce://proj/europe-west1-b/n1", "10.0.0.1", "europe-west1-b"),
          new Backend("n2", "gce://proj/europe-west1-c/n2", "10.0.0.2", "europe-west1-c"),
          new Backend("n3", "gce://proj/europe-west1-b/n3", "10.0.0.3", "europe-west1-b"),
          new Backend("metal", "", "10.0.0.9", ""));

  private static HealthCheck http(int port) {
    return new HealthCheck(
        HealthCheck.Type.HTTP,
        port,
        "/healthz",
        Duration.ofSeconds(8),
        Duration.ofSeconds(1),
        1,
        3);
  }

  @Test
  @DisplayName("names are GCE-valid, at most 63 characters, deterministic and per Service UID")
  void names() {
    String pattern = "[a-z]([-a-z0-9]{0,61}[a-z0-9])?";
    for (String n :
        List.of(
            GcpNames.service(REF),
            GcpNames.forProtocol(REF, "UDP"),
            GcpNames.clientFirewall(REF),
            GcpNames.healthFirewall(REF),
            GcpNames.instanceGroup("prod-eu"),
            GcpNames.nodeHealthCheck("prod-eu"))) {
      assertThat(n).matches(pattern).hasSizeLessThanOrEqualTo(63);
    }
    assertThat(GcpNames.service(REF)).isEqualTo(GcpNames.service(REF));
    assertThat(GcpNames.service(new LoadBalancerRef("prod-eu", "shop", "web", "other-uid")))
        .isNotEqualTo(GcpNames.service(REF));
  }

  @Test
  @DisplayName(
      "TCP and UDP on one address: a forwarding rule per protocol; Cluster policy shares the"
          + " cluster's kube-proxy check; firewalls for clients and Google's probers; nodes by zone")
  void mixedService() {
    LoadBalancerPlan plan =
        LoadBalancerPlan.builder(
                REF,
                List.of(
                    new Listener("dns", Protocol.UDP, 53, 30053),
                    new Listener("dns-tcp", Protocol.TCP, 53, 30054),
                    new Listener("web", Protocol.TCP, 80, 30080)),
                http(10256))
            .backends(NODES)
            .sourceRanges(List.of("203.0.113.0/24"))
            .build();
    GcpShape s = GcpShape.of(plan);
    assertThat(s.rules())
        .containsExactly(
            new GcpShape.RuleSpec(
                GcpNames.forProtocol(REF, "TCP"), "TCP", List.of(53, 80), IpFamily.IPv4),
            new GcpShape.RuleSpec(
                GcpNames.forProtocol(REF, "UDP"), "UDP", List.of(53), IpFamily.IPv4));
    assertThat(s.probe())
        .isEqualTo(
            new GcpShape.ProbeSpec(
                GcpNames.nodeHealthCheck("prod-eu"), true, 10256, "/healthz", 8, 1, 1, 3));
    assertThat(s.firewalls())
        .containsExactly(
            new GcpShape.FirewallSpec(
                GcpNames.clientFirewall(REF),
                List.of("203.0.113.0/24"),
                Map.of("tcp", List.of(53, 80), "udp", List.of(53)),
                false,
                IpFamily.IPv4),
            new GcpShape.FirewallSpec(
                GcpNames.nodeHealthFirewall("prod-eu"),
                GcpShape.HEALTH_CHECK_RANGES,
                Map.of("tcp", List.of(10256)),
                true,
                IpFamily.IPv4));
    assertThat(s.instancesByZone())
        .isEqualTo(Map.of("europe-west1-b", List.of("n1", "n3"), "europe-west1-c", List.of("n2")));
    assertThat(s.skippedNodes()).containsExactly("metal");
    assertThat(s.description())
        .contains("\"kubernetes.io/service-name\":\"shop/web\"")
        .contains(REF.uid());
  }

  @Test
  @DisplayName(
      "Local policy: a check of the Service's own on its healthCheckNodePort; more than 5 ports"
          + " forward all ports while the firewall admits only the Service's")
  void localAndManyPorts() {
    List<Listener> many =
        IntStream.range(0, 6)
            .mapToObj(i -> new Listener("p" + i, Protocol.TCP, 8000 + i, 30100 + i))
            .toList();
    GcpShape s = GcpShape.of(LoadBalancerPlan.builder(REF, many, http(32000)).build());
    assertThat(s.rules()).singleElement().satisfies(r -> assertThat(r.ports()).isEmpty());
    assertThat(s.probe().shared()).isFalse();
    assertThat(s.probe().name()).isEqualTo(GcpNames.serviceHealthCheck(REF));
    assertThat(s.probe().port()).isEqualTo(32000);
    assertThat(s.firewalls().get(0).allowed().get("tcp")).hasSize(6);
    assertThat(s.firewalls().get(0).sources()).containsExactly("0.0.0.0/0");
    assertThat(s.firewalls().get(1))
        .as("the probers reach the Service's own check port through the Service's own firewall")
        .isEqualTo(
            new GcpShape.FirewallSpec(
                GcpNames.healthFirewall(REF),
                GcpShape.HEALTH_CHECK_RANGES,
                Map.of("tcp", List.of(32000)),
                false,
                IpFamily.IPv4));
  }

  @Test
  @DisplayName(
      "dual-stack: an IPv6 rule per protocol beside the IPv4 one, firewalls per family (IPv6"
          + " probers to the check port); a family with no range of its own gets no client firewall")
  void dualStack() {
    LoadBalancerPlan plan =
        LoadBalancerPlan.builder(
                REF, List.of(new Listener("web", Protocol.TCP, 80, 30080)), http(10256))
            .backends(NODES)
            .ipFamilies(List.of(IpFamily.IPv6, IpFamily.IPv4))
            .ipFamilyPolicy(IpFamilyPolicy.RequireDualStack)
            .sourceRanges(List.of("2001:db8::/32"))
            .build();
    GcpShape s = GcpShape.of(plan);
    assertThat(s.families()).containsExactly(IpFamily.IPv6, IpFamily.IPv4);
    assertThat(s.rules())
        .containsExactly(
            new GcpShape.RuleSpec(
                GcpNames.forProtocol(REF, "TCP") + "-ipv6", "TCP", List.of(80), IpFamily.IPv6),
            new GcpShape.RuleSpec(
                GcpNames.forProtocol(REF, "TCP"), "TCP", List.of(80), IpFamily.IPv4));
    assertThat(s.firewalls())
        .containsExactly(
            new GcpShape.FirewallSpec(
                GcpNames.clientFirewall(REF) + "-ipv6",
                List.of("2001:db8::/32"),
                Map.of("tcp", List.of(80)),
                false,
                IpFamily.IPv6),
            new GcpShape.FirewallSpec(
                GcpNames.nodeHealthFirewall("prod-eu") + "-ipv6",
                List.of("2600:1901:8001::/48"),
                Map.of("tcp", List.of(10256)),
                true,
                IpFamily.IPv6),
            new GcpShape.FirewallSpec(
                GcpNames.nodeHealthFirewall("prod-eu"),
                GcpShape.HEALTH_CHECK_RANGES,
                Map.of("tcp", List.of(10256)),
                true,
                IpFamily.IPv4));
    assertThat(GcpShape.of(plan, false, List.of(IpFamily.IPv4)).rules())
        .as("served in IPv4 alone where IPv6 cannot be")
        .extracting(GcpShape.RuleSpec::family)
        .containsExactly(IpFamily.IPv4);
  }

  @Test
  @DisplayName(
      "defect 4: IPv6-only source ranges give no client firewall at all (never one with no"
          + " source, which Compute reads as 0.0.0.0/0); mixed ranges keep the IPv4 ones")
  void ipv6OnlySourcesCloseInsteadOfOpen() {
    LoadBalancerPlan v6 =
        LoadBalancerPlan.builder(
                REF, List.of(new Listener("web", Protocol.TCP, 80, 30080)), http(10256))
            .sourceRanges(List.of("2001:db8::/32"))
            .build();
    assertThat(GcpShape.of(v6).firewalls())
        .extracting(GcpShape.FirewallSpec::name)
        .containsExactly(GcpNames.nodeHealthFirewall("prod-eu"));
    LoadBalancerPlan mixed =
        v6.toBuilder().sourceRanges(List.of("2001:db8::/32", "198.51.100.0/24")).build();
    assertThat(GcpShape.of(mixed).firewalls().get(0).sources()).containsExactly("198.51.100.0/24");
  }
}
