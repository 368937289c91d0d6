package dev.ferry.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The pure part of the AWS provider: names, options from annotations, the desired shape. */
class AwsShapeTest {

  private static final LoadBalancerRef REF =
      new LoadBalancerRef("prod", "shop", "web", "2f1c8e52-0d5e-4c43-9a3f-1a2b3c4d5e6f");
  private static final List<Backend> NODES =
      List.of(
          new Backend("a", "aws:///eu-west-1a/i-0abc", "10.0.0.1", "eu-west-1a"),
          new Backend("b", "", "10.0.0.2", "eu-west-1b"));

  private static LoadBalancerPlan plan(
      Map<String, String> annotations, HealthCheck hc, List<String> ranges, Listener... listeners) {
    return LoadBalancerPlan.builder(REF, List.of(listeners), hc)
        .backends(NODES)
        .sourceRanges(ranges)
        .annotations(annotations)
        .build();
  }

  private static HealthCheck tcp() {
    return new HealthCheck(
        HealthCheck.Type.TCP,
        HealthCheck.TRAFFIC_PORT,
        "",
        Duration.ofSeconds(10),
        Duration.ofSeconds(5),
        2,
        3);
  }

  @Test
  @DisplayName("names are deterministic, within 32 characters, and differ per Service UID")
  void names() {
    LoadBalancerRef other = new LoadBalancerRef("prod", "shop", "web", "another-uid");
    Listener l = new Listener("http", Protocol.TCP, 80, 30080);
    assertThat(AwsNames.loadBalancer(REF))
        .hasSize(32)
        .startsWith("ferry-")
        .isEqualTo(AwsNames.loadBalancer(REF))
        .isNotEqualTo(AwsNames.loadBalancer(other));
    assertThat(AwsNames.targetGroup(REF, "TCP", l))
        .hasSizeLessThanOrEqualTo(32)
        .startsWith(AwsNames.targetGroupPrefix(REF));
    assertThat(AwsNames.targetGroup(REF, "TCP", l))
        .isNotEqualTo(
            AwsNames.targetGroup(REF, "TCP", new Listener("http", Protocol.TCP, 80, 30081)));
  }

  @Test
  @DisplayName("TCP and UDP on one port with one nodePort become one TCP_UDP target group")
  void tcpUdp() throws Exception {
    LoadBalancerPlan p =
        plan(
            Map.of(),
            tcp(),
            List.of("0.0.0.0/0"),
            new Listener("dns", Protocol.TCP, 53, 30053),
            new Listener("dns-udp", Protocol.UDP, 53, 30053));
    AwsShape shape = AwsShape.of(p, AwsOptions.from(p), List.of("10.0.0.0/16"));
    assertThat(shape.targetGroups())
        .singleElement()
        .satisfies(
            tg -> {
              assertThat(tg.protocol()).isEqualTo("TCP_UDP");
              assertThat(tg.nodePort()).isEqualTo(30053);
            });
  }

  @Test
  @DisplayName(
      "TCP and UDP on one port with different nodePorts is an invalid plan naming spec.ports")
  void tcpUdpMismatch() {
    LoadBalancerPlan p =
        plan(
            Map.of(),
            tcp(),
            List.of("0.0.0.0/0"),
            new Listener("dns", Protocol.TCP, 53, 30053),
            new Listener("dns-udp", Protocol.UDP, 53, 30054));
    assertThatThrownBy(() -> AwsShape.of(p, AwsOptions.from(p), List.of("10.0.0.0/16")))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e ->
                assertThat(e.violations())
                    .extracting(PlanViolation::field)
                    .containsExactly("spec.ports"));
  }

  @Test
  @DisplayName(
      "instances come from aws providerIDs; other nodes are skipped by name; tags mark ownership")
  void instancesAndTags() throws Exception {
    LoadBalancerPlan p =
        plan(
            Map.of(AwsOptions.EXTRA_TAGS, "team=shop, cost-center=42"),
            tcp(),
            List.of("0.0.0.0/0"),
            new Listener("http", Protocol.TCP, 80, 30080));
    AwsShape shape = AwsShape.of(p, AwsOptions.from(p), List.of("10.0.0.0/16"));
    assertThat(shape.instanceIds()).containsExactly("i-0abc");
    assertThat(shape.skippedNodes()).containsExactly("b");
    assertThat(shape.tags())
        .containsEntry("kubernetes.io/cluster/prod", "owned")
        .containsEntry("kubernetes.io/service-name", "shop/web")
        .containsEntry("ferry.dev/service-uid", REF.uid())
        .containsEntry("team", "shop")
        .containsEntry("cost-center", "42");
    assertThat(AwsShape.owns(REF, shape.tags())).isTrue();
    assertThat(AwsShape.owns(REF, Map.of("ferry.dev/service-uid", REF.uid()))).isFalse();
  }

  @Test
  @DisplayName(
      "restricted source ranges open the NodePorts to them, and to the VPC for health checks")
  void rules() throws Exception {
    LoadBalancerPlan p =
        plan(
            Map.of(),
            tcp(),
            List.of("203.0.113.0/24"),
            new Listener("http", Protocol.TCP, 80, 30080),
            new Listener("q", Protocol.UDP, 9000, 30900));
    assertThat(AwsShape.of(p, AwsOptions.from(p), List.of("10.0.0.0/16")).rules())
        .containsExactlyInAnyOrder(
            new AwsShape.Rule("tcp", 30080, "203.0.113.0/24"),
            new AwsShape.Rule("tcp", 30080, "10.0.0.0/16"),
            new AwsShape.Rule("udp", 30900, "203.0.113.0/24"));
  }

  @Test
  @DisplayName(
      "a VPC with a secondary CIDR: health checks are let in from every CIDR of the VPC, the"
          + " kube-proxy port once per cluster")
  void secondaryCidrs() throws Exception {
    LoadBalancerPlan p =
        plan(
            Map.of(),
            new HealthCheck(
                HealthCheck.Type.HTTP,
                10256,
                "/healthz",
                Duration.ofSeconds(10),
                Duration.ofSeconds(5),
                2,
                3),
            List.of("203.0.113.0/24"),
            new Listener("http", Protocol.TCP, 80, 30080));
    AwsShape shape = AwsShape.of(p, AwsOptions.from(p), List.of("10.0.0.0/16", "100.64.0.0/16"));
    assertThat(shape.rules())
        .containsExactlyInAnyOrder(
            new AwsShape.Rule("tcp", 30080, "203.0.113.0/24"),
            new AwsShape.Rule("tcp", 30080, "10.0.0.0/16"),
            new AwsShape.Rule("tcp", 30080, "100.64.0.0/16"));
    assertThat(shape.sharedRules())
        .containsExactlyInAnyOrder(
            new AwsShape.Rule("tcp", 10256, "10.0.0.0/16"),
            new AwsShape.Rule("tcp", 10256, "100.64.0.0/16"));
  }

  @Test
  @DisplayName("Local policy: HTTP /healthz on the healthCheckNodePort, reachable from the VPC")
  void localHealthCheck() throws Exception {
    HealthCheck local =
        new HealthCheck(
            HealthCheck.Type.HTTP,
            32100,
            "/healthz",
            Duration.ofSeconds(10),
            Duration.ofSeconds(5),
            2,
            2);
    LoadBalancerPlan p =
        plan(Map.of(), local, List.of("0.0.0.0/0"), new Listener("http", Protocol.TCP, 80, 30080));
    AwsOptions o = AwsOptions.from(p);
    assertThat(o.healthCheck())
        .isEqualTo(new AwsOptions.NlbHealthCheck("HTTP", "32100", "/healthz", 10, 5, 2, 2));
    assertThat(AwsShape.of(p, o, List.of("10.0.0.0/16")).rules())
        .contains(new AwsShape.Rule("tcp", 32100, "10.0.0.0/16"));
  }

  @Test
  @DisplayName("upstream health-check annotations override; malformed ones are named")
  void healthAnnotations() throws Exception {
    Map<String, String> good =
        Map.of(
            AwsOptions.HC + "protocol",
            "http",
            AwsOptions.HC + "path",
            "/ready",
            AwsOptions.HC + "interval",
            "30",
            AwsOptions.HC + "port",
            "8080");
    LoadBalancerPlan p =
        plan(good, tcp(), List.of("0.0.0.0/0"), new Listener("http", Protocol.TCP, 80, 30080));
    assertThat(AwsOptions.from(p).healthCheck())
        .isEqualTo(new AwsOptions.NlbHealthCheck("HTTP", "8080", "/ready", 30, 5, 2, 3));

    Map<String, String> bad =
        Map.of(
            AwsOptions.HC + "interval",
            "often",
            AwsOptions.HC + "protocol",
            "UDP",
            AwsOptions.SCHEME,
            "private");
    LoadBalancerPlan q =
        plan(bad, tcp(), List.of("0.0.0.0/0"), new Listener("http", Protocol.TCP, 80, 30080));
    assertThatThrownBy(() -> AwsOptions.from(q))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e ->
                assertThat(e.violations())
                    .extracting(PlanViolation::field)
                    .containsExactlyInAnyOrder(
                        "metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval]",
                        "metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol]",
                        "metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-scheme]"));
  }

  @Test
  @DisplayName(
      "a Ferry health-check interval below AWS's 5 s minimum is named as the Ferry annotation")
  void awsLimits() {
    HealthCheck fast =
        new HealthCheck(
            HealthCheck.Type.TCP,
            HealthCheck.TRAFFIC_PORT,
            "",
            Duration.ofSeconds(2),
            Duration.ofSeconds(1),
            2,
            2);
    LoadBalancerPlan p =
        plan(Map.of(), fast, List.of("0.0.0.0/0"), new Listener("http", Protocol.TCP, 80, 30080));
    assertThatThrownBy(() -> AwsOptions.from(p))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e ->
                assertThat(e.violations())
                    .extracting(PlanViolation::field)
                    .contains(
                        "metadata.annotations[ferry.dev/health-check-interval]",
                        "metadata.annotations[ferry.dev/health-check-timeout]"));
  }

  @Test
  @DisplayName("internal scheme from either upstream annotation; Elastic IPs need internet-facing")
  void scheme() throws Exception {
    LoadBalancerPlan internal =
        plan(
            Map.of(AwsOptions.INTERNAL, "true"),
            tcp(),
            List.of("0.0.0.0/0"),
            new Listener("http", Protocol.TCP, 80, 30080));
    assertThat(AwsOptions.from(internal).internal()).isTrue();
    LoadBalancerPlan eips =
        plan(
            Map.of(AwsOptions.SCHEME, "internal", AwsOptions.EIPS, "eipalloc-0abc"),
            tcp(),
            List.of("0.0.0.0/0"),
            new Listener("http", Protocol.TCP, 80, 30080));
    assertThatThrownBy(() -> AwsOptions.from(eips))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .hasMessageContaining("eip-allocations");
  }

  @Test
  @DisplayName(
      "a UDP target group is never checked over TCP on its own port: the kube-proxy HTTP check"
          + " instead; an annotation asking for it on a UDP-only port is refused naming it")
  void udpHealth() throws Exception {
    LoadBalancerPlan udp =
        plan(Map.of(), tcp(), List.of("0.0.0.0/0"), new Listener("dns", Protocol.UDP, 53, 30053));
    AwsOptions.NlbHealthCheck hc = AwsOptions.from(udp).healthCheck();
    assertThat(hc.forGroup("UDP"))
        .isEqualTo(new AwsOptions.NlbHealthCheck("HTTP", "10256", "/healthz", 10, 5, 2, 3));
    // TCP_UDP: the TCP half answers on the traffic port
    assertThat(hc.forGroup("TCP_UDP")).isEqualTo(hc);
    assertThat(hc.forGroup("TCP")).isEqualTo(hc);
    LoadBalancerPlan asked =
        plan(
            Map.of("service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol", "TCP"),
            tcp(),
            List.of("0.0.0.0/0"),
            new Listener("dns", Protocol.UDP, 53, 30053));
    assertThatThrownBy(() -> AwsOptions.from(asked))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e ->
                assertThat(e.violations())
                    .extracting(PlanViolation::field)
                    .containsExactly(
                        "metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol]"));
  }

  @Test
  @DisplayName(
      "attribute annotations: cross-zone, proxy protocol and key=value lists are parsed; an unknown"
          + " key or value is named")
  void attributeAnnotations() throws Exception {
    String p = "service.beta.kubernetes.io/aws-load-balancer-";
    LoadBalancerPlan ok =
        plan(
            Map.of(
                p + "cross-zone-load-balancing-enabled", "false",
                p + "attributes", "deletion_protection.enabled=true",
                p + "proxy-protocol", "*",
                p + "target-group-attributes", "preserve_client_ip.enabled=false"),
            tcp(),
            List.of("0.0.0.0/0"),
            new Listener("http", Protocol.TCP, 80, 30080));
    AwsOptions o = AwsOptions.from(ok);
    assertThat(o.loadBalancerAttributes())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "load_balancing.cross_zone.enabled", "false",
                "deletion_protection.enabled", "true"));
    assertThat(o.targetGroupAttributes())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("proxy_protocol_v2.enabled", "true", "preserve_client_ip.enabled", "false"));
    LoadBalancerPlan bad =
        plan(
            Map.of(
                p + "attributes", "idle_timeout.timeout_seconds=60",
                p + "proxy-protocol", "80"),
            tcp(),
            List.of("0.0.0.0/0"),
            new Listener("http", Protocol.TCP, 80, 30080));
    assertThatThrownBy(() -> AwsOptions.from(bad))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e ->
                assertThat(e.violations())
                    .extracting(PlanViolation::field)
                    .containsExactlyInAnyOrder(
                        "metadata.annotations[" + p + "attributes]",
                        "metadata.annotations[" + p + "proxy-protocol]"));
  }
}
