package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.Scheme;
import dev.ferry.spi.SessionAffinity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PlannerTest {

  private static final Planner.Settings SETTINGS = new Planner.Settings("prod");
  private static final List<Backend> NODES =
      List.of(new Backend("n1", "aws:///eu-west-1a/i-1", "10.0.0.1", "eu-west-1a"));

  private static ServiceBuilder base() {
    return new ServiceBuilder()
        .withNewMetadata()
        .withNamespace("shop")
        .withName("web")
        .withUid("u-1")
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
        .addNewPort()
        .withName("http")
        .withPort(80)
        .withProtocol("TCP")
        .withNodePort(30080)
        .endPort()
        .addNewPort()
        .withName("dns")
        .withPort(53)
        .withProtocol("UDP")
        .withNodePort(30053)
        .endPort()
        .endSpec();
  }

  private static LoadBalancerPlan planned(Service s) {
    Planner.Result r = Planner.plan(s, NODES, SETTINGS);
    assertThat(r).isInstanceOf(Planner.Planned.class);
    return ((Planner.Planned) r).plan();
  }

  private static List<PlanViolation> rejected(Service s) {
    Planner.Result r = Planner.plan(s, NODES, SETTINGS);
    assertThat(r).isInstanceOf(Planner.Rejected.class);
    return ((Planner.Rejected) r).violations();
  }

  @Test
  @DisplayName("every plan over the eligible nodes shares their one list (10,000 plans, one array)")
  void plansShareTheBackendList() {
    List<Backend> eligible =
        NodeEligibility.eligibleBackends(
            List.of(
                NodeEligibilityTest.node("n2").build(), NodeEligibilityTest.node("n1").build()));
    Service a = base().editMetadata().withName("a").withUid("u-a").endMetadata().build();
    Service b = base().editMetadata().withName("b").withUid("u-b").endMetadata().build();
    LoadBalancerPlan pa = ((Planner.Planned) Planner.plan(a, eligible, SETTINGS)).plan();
    LoadBalancerPlan pb = ((Planner.Planned) Planner.plan(b, eligible, SETTINGS)).plan();
    assertThat(pa.backends()).extracting(Backend::nodeName).containsExactly("n1", "n2");
    assertThat(pa.backends()).isSameAs(eligible).isSameAs(pb.backends());
    assertThat(pa.withCurrentAddresses(List.of("203.0.113.7")).backends()).isSameAs(eligible);
  }

  @Test
  @DisplayName(
      "a plain Service becomes listeners per port, kube-proxy's HTTP :10256/healthz as health check"
          + " (for UDP too), open to all")
  void plainService() {
    LoadBalancerPlan expected =
        LoadBalancerPlan.builder(
                new LoadBalancerRef("prod", "shop", "web", "u-1"),
                List.of(
                    new Listener("http", Protocol.TCP, 80, 30080),
                    new Listener("dns", Protocol.UDP, 53, 30053)),
                new HealthCheck(
                    HealthCheck.Type.HTTP,
                    10256,
                    "/healthz",
                    Duration.ofSeconds(10),
                    Duration.ofSeconds(5),
                    2,
                    3))
            .backends(NODES)
            .tags(
                Map.of(
                    "ferry.dev/cluster",
                    "prod",
                    "ferry.dev/service",
                    "shop/web",
                    "ferry.dev/service-uid",
                    "u-1"))
            .build();
    assertThat(planned(base().build())).isEqualTo(expected);
  }

  @Test
  @DisplayName(
      "spec.ipFamilies reaches the plan; a provider serving IPv4 only refuses IPv6 naming the field,"
          + " and a health-check interval outside its range naming the annotation")
  void ipFamiliesAndCapabilityRanges() {
    LoadBalancerPlan dual =
        planned(base().editSpec().withIpFamilies("IPv6", "IPv4").endSpec().build());
    assertThat(dual.ipFamilies()).containsExactly(IpFamily.IPv6, IpFamily.IPv4);
    assertThat(planned(base().build()).ipFamilies()).containsExactly(IpFamily.IPv4);

    Capabilities ipv4Only =
        Capabilities.builder()
            .protocols(Protocol.TCP, Protocol.UDP)
            .mixedProtocols(true)
            .healthCheckInterval(Duration.ofSeconds(5), Duration.ofSeconds(300))
            .build();
    assertThat(ipv4Only.violations(planned(base().build()))).isEmpty();
    assertThat(ipv4Only.violations(dual))
        .extracting(PlanViolation::field)
        .containsExactly("spec.ipFamilyPolicy");
    LoadBalancerPlan v6 = planned(base().editSpec().withIpFamilies("IPv6").endSpec().build());
    assertThat(ipv4Only.violations(v6))
        .extracting(PlanViolation::field)
        .containsExactly("spec.ipFamilies");
    Service fast =
        base()
            .editMetadata()
            .addToAnnotations("ferry.dev/health-check-interval", "2")
            .addToAnnotations("ferry.dev/health-check-timeout", "1")
            .endMetadata()
            .build();
    assertThat(ipv4Only.violations(planned(fast)))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field())
                  .isEqualTo("metadata.annotations[ferry.dev/health-check-interval]");
              assertThat(v.problem()).contains("2s is outside this provider's range 5s-300s");
            });
    // what a provider does not declare keeps its default: TCP only, IPv4, an IP address
    Capabilities undeclared = Capabilities.builder().build();
    assertThat(undeclared.protocols()).containsExactly(Protocol.TCP);
    assertThat(undeclared.ipFamilies()).containsExactly(IpFamily.IPv4);
    assertThat(undeclared.addressKind()).isEqualTo(dev.ferry.spi.AddressKind.IP);
  }

  @Test
  @DisplayName(
      "source ranges are normalised (host bits cleared, duplicates dropped) as clouds want them;"
          + " shorthand, wildcards and host names are refused")
  void sourceRangesNormalised() {
    Service s =
        base()
            .editSpec()
            .withLoadBalancerSourceRanges(
                "10.0.0.5/8", "10.0.0.0/8", "2001:DB8::1/32", "203.0.113.0/24")
            .endSpec()
            .build();
    assertThat(planned(s).sourceRanges())
        .containsExactly("10.0.0.0/8", "2001:db8::/32", "203.0.113.0/24");
    for (String bad : List.of("10.1/8", "10.0.0.*/8", "example.com/24", "10.0.0.0", "0/0")) {
      Service b = base().editSpec().withLoadBalancerSourceRanges(bad).endSpec().build();
      assertThat(rejected(b))
          .as(bad)
          .extracting(PlanViolation::field)
          .containsExactly("spec.loadBalancerSourceRanges");
    }
  }

  @Test
  @DisplayName(
      "aws-load-balancer-target-node-labels picks the nodes with every label named (key=value, or"
          + " key for any value); a malformed entry is named")
  void targetNodeLabels() {
    List<Backend> nodes =
        List.of(
            new Backend("a", "", "10.0.0.1", ""),
            new Backend("b", "", "10.0.0.2", ""),
            new Backend("c", "", "10.0.0.3", ""));
    Map<String, Map<String, String>> labels =
        Map.of(
            "a", Map.of("role", "edge", "tier", "1"),
            "b", Map.of("role", "edge"),
            "c", Map.of("role", "batch", "tier", "2"));
    java.util.function.Function<String, List<String>> pick =
        selector -> {
          Service s =
              base()
                  .editMetadata()
                  .addToAnnotations(Planner.TARGET_NODE_LABELS, selector)
                  .endMetadata()
                  .build();
          Planner.Result r = Planner.plan(s, nodes, labels, SETTINGS);
          return ((Planner.Planned) r).plan().backends().stream().map(Backend::nodeName).toList();
        };
    assertThat(pick.apply("role=edge")).containsExactly("a", "b");
    assertThat(pick.apply("role=edge, tier")).containsExactly("a");
    assertThat(pick.apply("tier")).containsExactly("a", "c");
    assertThat(pick.apply("role=none")).isEmpty();
    Service bad =
        base()
            .editMetadata()
            .addToAnnotations(Planner.TARGET_NODE_LABELS, "role=edge,=x")
            .endMetadata()
            .build();
    assertThat(Planner.plan(bad, nodes, labels, SETTINGS))
        .isInstanceOfSatisfying(
            Planner.Rejected.class,
            r ->
                assertThat(r.violations())
                    .extracting(PlanViolation::field)
                    .containsExactly("metadata.annotations[" + Planner.TARGET_NODE_LABELS + "]"));
  }

  @Test
  @DisplayName("externalTrafficPolicy Local probes HTTP /healthz on the healthCheckNodePort")
  void localPolicy() {
    Service s =
        base()
            .editSpec()
            .withExternalTrafficPolicy("Local")
            .withHealthCheckNodePort(32000)
            .endSpec()
            .build();
    assertThat(planned(s).healthCheck())
        .isEqualTo(
            new HealthCheck(
                HealthCheck.Type.HTTP,
                32000,
                "/healthz",
                Duration.ofSeconds(10),
                Duration.ofSeconds(5),
                2,
                2));
  }

  @Test
  @DisplayName("Local without a healthCheckNodePort is rejected naming the field")
  void localWithoutHealthPort() {
    Service s = base().editSpec().withExternalTrafficPolicy("Local").endSpec().build();
    assertThat(rejected(s))
        .extracting(PlanViolation::field)
        .containsExactly("spec.healthCheckNodePort");
  }

  @Test
  @DisplayName("health-check annotations are honoured")
  void healthAnnotations() {
    Service s =
        base()
            .editMetadata()
            .withAnnotations(
                Map.of(
                    Planner.HC_INTERVAL, "2", Planner.HC_TIMEOUT, "1", Planner.HC_UNHEALTHY, "2"))
            .endMetadata()
            .build();
    HealthCheck hc = planned(s).healthCheck();
    assertThat(hc.interval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(hc.timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(hc.unhealthyThreshold()).isEqualTo(2);
  }

  @Test
  @DisplayName(
      "a provider's health-check defaults (GCE: 8s, 1s, 1, 3) apply where the Service sets none;"
          + " an annotation still wins")
  void providerHealthDefaults() {
    Planner.Settings gce =
        new Planner.Settings(
            "prod",
            java.util.Optional.of(
                new dev.ferry.spi.HealthCheckDefaults(
                    Duration.ofSeconds(8), Duration.ofSeconds(1), 1, 3)));
    Planner.Result r = Planner.plan(base().build(), NODES, gce);
    HealthCheck hc = ((Planner.Planned) r).plan().healthCheck();
    assertThat(hc.interval()).isEqualTo(Duration.ofSeconds(8));
    assertThat(hc.timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(hc.healthyThreshold()).isEqualTo(1);
    assertThat(hc.unhealthyThreshold()).isEqualTo(3);
    Service tuned =
        base()
            .editMetadata()
            .withAnnotations(Map.of(Planner.HC_INTERVAL, "20"))
            .endMetadata()
            .build();
    HealthCheck annotated =
        ((Planner.Planned) Planner.plan(tuned, NODES, gce)).plan().healthCheck();
    assertThat(annotated.interval()).isEqualTo(Duration.ofSeconds(20));
    assertThat(annotated.timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(planned(base().build()).healthCheck().interval())
        .as("Ferry's own default without a provider's")
        .isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  @DisplayName(
      "a provider's Local-policy defaults (GKE NetLB: 3s, 1s, 1, 2) apply to a Local Service, its"
          + " Cluster-policy defaults to the others")
  void providerLocalHealthDefaults() {
    Planner.Settings gke =
        new Planner.Settings(
            "prod",
            java.util.Optional.of(
                new dev.ferry.spi.HealthCheckDefaults(
                    Duration.ofSeconds(8), Duration.ofSeconds(1), 1, 3)),
            java.util.Optional.of(
                new dev.ferry.spi.HealthCheckDefaults(
                    Duration.ofSeconds(3), Duration.ofSeconds(1), 1, 2)));
    Service local =
        base()
            .editSpec()
            .withExternalTrafficPolicy("Local")
            .withHealthCheckNodePort(32000)
            .endSpec()
            .build();
    HealthCheck hc = ((Planner.Planned) Planner.plan(local, NODES, gke)).plan().healthCheck();
    assertThat(hc.port()).isEqualTo(32000);
    assertThat(hc.interval()).isEqualTo(Duration.ofSeconds(3));
    assertThat(hc.unhealthyThreshold()).isEqualTo(2);
    HealthCheck cluster =
        ((Planner.Planned) Planner.plan(base().build(), NODES, gke)).plan().healthCheck();
    assertThat(cluster.interval()).isEqualTo(Duration.ofSeconds(8));
    assertThat(cluster.unhealthyThreshold()).isEqualTo(3);
  }

  @Test
  @DisplayName("a malformed annotation is rejected naming the annotation")
  void badAnnotation() {
    Service s =
        base()
            .editMetadata()
            .withAnnotations(Map.of(Planner.HC_INTERVAL, "soon"))
            .endMetadata()
            .build();
    assertThat(rejected(s))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field())
                  .isEqualTo("metadata.annotations[ferry.dev/health-check-interval]");
              assertThat(v.problem()).contains("'soon'");
            });
  }

  @Test
  @DisplayName("an unknown protocol and a port out of range are both named")
  void badPorts() {
    Service s =
        base()
            .editSpec()
            .editFirstPort()
            .withProtocol("QUIC")
            .withPort(70000)
            .endPort()
            .endSpec()
            .build();
    assertThat(rejected(s))
        .extracting(PlanViolation::field)
        .containsExactly("spec.ports[0].protocol", "spec.ports[0].port");
  }

  @Test
  @DisplayName("source ranges come from the spec, else the annotation; a bad CIDR is named")
  void sourceRanges() {
    Service spec =
        base()
            .editSpec()
            .withLoadBalancerSourceRanges("10.0.0.0/8", "2001:db8::/32")
            .endSpec()
            .build();
    assertThat(planned(spec).sourceRanges()).containsExactly("10.0.0.0/8", "2001:db8::/32");
    Service annotated =
        base()
            .editMetadata()
            .withAnnotations(
                Map.of(Planner.SOURCE_RANGES_ANNOTATION, "192.168.0.0/16, 172.16.0.0/12"))
            .endMetadata()
            .build();
    assertThat(planned(annotated).sourceRanges())
        .containsExactly("192.168.0.0/16", "172.16.0.0/12");
    Service bad =
        base()
            .editSpec()
            .withLoadBalancerSourceRanges("10.0.0.0/33", "example.com/8")
            .endSpec()
            .build();
    assertThat(rejected(bad))
        .hasSize(2)
        .allMatch(v -> v.field().equals("spec.loadBalancerSourceRanges"));
  }

  @Test
  @DisplayName("ClientIP affinity carries its timeout, 10800 s by default")
  void affinity() {
    Service s = base().editSpec().withSessionAffinity("ClientIP").endSpec().build();
    assertThat(planned(s).affinity())
        .isEqualTo(SessionAffinity.clientIp(Duration.ofSeconds(10800)));
  }

  @Test
  @DisplayName("the scheme annotation chooses internal; another value is rejected")
  void scheme() {
    Service internal =
        base()
            .editMetadata()
            .withAnnotations(Map.of(Planner.SCHEME, "internal"))
            .endMetadata()
            .build();
    assertThat(planned(internal).scheme()).isEqualTo(Scheme.INTERNAL);
    Service odd =
        base()
            .editMetadata()
            .withAnnotations(Map.of(Planner.SCHEME, "private"))
            .endMetadata()
            .build();
    assertThat(rejected(odd))
        .extracting(PlanViolation::field)
        .containsExactly("metadata.annotations[ferry.dev/load-balancer-scheme]");
  }

  @Test
  @DisplayName("a bad loadBalancerIP is rejected, a good one carried")
  void requestedIp() {
    assertThat(
            planned(base().editSpec().withLoadBalancerIP("203.0.113.7").endSpec().build())
                .requestedIp())
        .contains("203.0.113.7");
    assertThat(rejected(base().editSpec().withLoadBalancerIP("300.1.1.1").endSpec().build()))
        .extracting(PlanViolation::field)
        .containsExactly("spec.loadBalancerIP");
  }
}
