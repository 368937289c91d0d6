package dev.ferry.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.ProviderException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** One test per defect of issue 34; each failed on the provider before the change. */
class AzureDefectsTest {

  private final List<ArmFake> fakes = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  private final List<Backend> nodes = AzureFixture.nodes(3);

  @AfterEach
  void close() {
    fakes.forEach(ArmFake::close);
  }

  private ArmFake aks() {
    ArmFake f = AzureFixture.aks();
    fakes.add(f);
    return f;
  }

  private ArmFake selfManaged() {
    ArmFake f = AzureFixture.start();
    fakes.add(f);
    return f;
  }

  private ProviderContext.Builder context(String cluster) {
    return ProviderContext.builder(cluster)
        .events((ref, reason, message) -> warnings.add(reason + ": " + message));
  }

  private static LoadBalancerRef ref(String cluster, int i) {
    return new LoadBalancerRef(cluster, "shop", "web-" + i, cluster + "-uid-" + i);
  }

  static LoadBalancerPlan plan(
      LoadBalancerRef ref, List<Backend> nodes, Map<String, String> annotations) {
    return LoadBalancerPlan.builder(
            ref,
            List.of(
                new Listener(
                    "http", Protocol.TCP, 80 + (int) (Math.abs(ref.uid().hashCode()) % 50), 30080),
                new Listener("dns", Protocol.UDP, 53, 30053)),
            new HealthCheck(
                HealthCheck.Type.HTTP,
                10256,
                "/healthz",
                Duration.ofSeconds(5),
                Duration.ofSeconds(5),
                1,
                2))
        .backends(nodes)
        .annotations(annotations)
        .build();
  }

  private static JsonNode lb(ArmFake fake, String group, String name) {
    return fake.get(AzureFixture.network(group, "loadBalancers", name));
  }

  @Test
  @DisplayName(
      "1. AKS: with the chart's default cluster name Ferry joins AKS's kubernetes load balancer under"
          + " ferry- names, uses its NIC pool, tags its IP with ferry.dev keys only, and leaves every AKS part as"
          + " it was; on a self-managed group its load balancer is ferry-<cluster>")
  void aksCollision() throws Exception {
    ArmFake fake = aks();
    Map<String, String> before = AzureFixture.aksParts(fake);
    AzureProvider p = AzureFixture.aksProvider(fake, context("kubernetes"));
    LoadBalancerRef ref = ref("kubernetes", 1);
    p.ensure(plan(ref, nodes, Map.of()));
    p.updateBackends(ref, AzureFixture.nodes(2));
    JsonNode lb = lb(fake, AzureFixture.AKS_GROUP, "kubernetes");
    assertThat(lb.path("properties").path("loadBalancingRules").toString())
        .contains(
            "ferry-",
            AzureFixture.AKS_GROUP
                + "/providers/Microsoft.Network/loadBalancers/kubernetes/backendAddressPools/kubernetes");
    assertThat(fake.all("loadBalancers")).hasSize(1);
    JsonNode pip =
        fake.all("publicIPAddresses").stream()
            .filter(x -> x.path("name").asText().startsWith("ferry-"))
            .findFirst()
            .orElseThrow();
    assertThat(pip.path("tags").toString())
        .contains("ferry.dev-service")
        .doesNotContain("k8s-azure");
    assertThat(AzureFixture.aksParts(fake)).isEqualTo(before);
    p.ensureDeleted(ref);
    assertThat(AzureFixture.aksParts(fake)).isEqualTo(before);
    assertThat(lb(fake, AzureFixture.AKS_GROUP, "kubernetes").toString()).doesNotContain("ferry-");
    p.close();

    ArmFake own = selfManaged();
    AzureProvider q = AzureFixture.provider(own, context("kubernetes"));
    q.ensure(plan(ref("kubernetes", 2), nodes, Map.of()));
    assertThat(lb(own, AzureFixture.GROUP, "ferry-kubernetes")).isNotNull();
    assertThat(lb(own, AzureFixture.GROUP, "kubernetes")).isNull();
    q.close();
  }

  @Test
  @DisplayName(
      "1c. upgrade: Ferry's own load balancer under its old name (<cluster>, tagged Ferry's) is kept"
          + " (Azure renames nothing, and the nodes cannot be behind a second public one); the Service's public"
          + " IP loses cloud-provider-azure's tags for Ferry's")
  void upgradeKeepsOldNames() throws Exception {
    ArmFake fake = selfManaged();
    LoadBalancerRef ref = ref("c", 1);
    String pipId =
        AzureFixture.network(AzureFixture.GROUP, "publicIPAddresses", AzureNames.service(ref));
    fake.seed(
        pipId,
        "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"tags\":{"
            + "\"k8s-azure-service\":\"shop/web-1\",\"k8s-azure-cluster-name\":\"c\",\"ferry.dev-service-uid\":\""
            + ref.uid()
            + "\"},\"properties\":{\"publicIPAllocationMethod\":\"Static\"}}");
    String lb = AzureFixture.network(AzureFixture.GROUP, "loadBalancers", "c");
    fake.seed(
        lb,
        "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"tags\":{"
            + "\"ferry.dev-cluster\":\"c\",\"k8s-azure-cluster-name\":\"c\"},\"properties\":{"
            + "\"frontendIPConfigurations\":[{\"name\":\""
            + AzureNames.service(ref)
            + "\",\"properties\":"
            + "{\"publicIPAddress\":{\"id\":\""
            + pipId
            + "\"}}}],"
            + "\"backendAddressPools\":[{\"name\":\"c\",\"properties\":{\"loadBalancerBackendAddresses\":["
            + "{\"name\":\"aks-node-0\",\"properties\":{\"ipAddress\":\"10.224.0.4\",\"virtualNetwork\":{\"id\":\"/v\"}}}]}}]}}");
    AzureProvider p = AzureFixture.provider(fake, context("c"));
    p.ensure(plan(ref, nodes, Map.of()));
    assertThat(lb(fake, AzureFixture.GROUP, "c").path("properties").path("loadBalancingRules"))
        .hasSize(2);
    assertThat(fake.get(AzureFixture.network(AzureFixture.GROUP, "loadBalancers", "ferry-c")))
        .isNull();
    assertThat(fake.get(pipId).path("tags").toString())
        .contains("ferry.dev-cluster")
        .doesNotContain("k8s-azure");
    p.ensureDeleted(ref);
    assertThat(fake.all("loadBalancers")).isEmpty();
    p.close();
  }

  @Test
  @DisplayName(
      "1b. AKS: an internal Service with no kubernetes-internal is refused naming the one-internal-LB"
          + " limit, and nothing is made")
  void aksInternalNeedsAksLoadBalancer() throws Exception {
    ArmFake fake = aks();
    AzureProvider p = AzureFixture.aksProvider(fake, context("kubernetes"));
    assertThatThrownBy(
            () -> p.ensure(plan(ref("kubernetes", 3), nodes, Map.of(AzureWish.INTERNAL, "true"))))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .hasMessageContaining("only one internal Standard Load Balancer");
    assertThat(fake.all("loadBalancers")).hasSize(1);
    p.close();
  }

  @Test
  @DisplayName(
      "2. limits: the Service that would put the nodes over 300 rules gets a quota error naming the"
          + " limit, and nothing of it is made")
  void rulesPerNic() throws Exception {
    ArmFake fake = aks(); // AKS's own Service already has 1 rule on the pool
    AzureProvider p = AzureFixture.aksProvider(fake, context("kubernetes"));
    for (int i = 0; i < 149; i++) {
      p.ensure(plan(ref("kubernetes", i), nodes, Map.of()));
    }
    int pips = fake.all("publicIPAddresses").size();
    assertThatThrownBy(() -> p.ensure(plan(ref("kubernetes", 200), nodes, Map.of())))
        .isInstanceOf(ProviderException.QuotaExceeded.class)
        .hasMessageContaining("300 per NIC IP configuration");
    assertThat(
            lb(fake, AzureFixture.AKS_GROUP, "kubernetes")
                .path("properties")
                .path("loadBalancingRules"))
        .hasSize(299);
    p.ensureDeleted(ref("kubernetes", 200));
    assertThat(fake.all("publicIPAddresses")).hasSize(pips);
    p.close();
  }

  @Test
  @DisplayName(
      "3. probes: the failure count is probeThreshold (2 by default); a count of 1 and interval x count"
          + " >= 120 s are refused")
  void probeThreshold() throws Exception {
    ArmFake fake = selfManaged();
    AzureProvider p = AzureFixture.provider(fake, context("c"));
    p.ensure(plan(ref("c", 1), nodes, Map.of()));
    JsonNode probe =
        lb(fake, AzureFixture.GROUP, "ferry-c").path("properties").path("probes").get(0);
    assertThat(probe.path("properties").path("probeThreshold").asInt()).isEqualTo(2);
    assertThatThrownBy(() -> p.ensure(plan(ref("c", 2), nodes, Map.of(AzureWish.PROBE_COUNT, "1"))))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .hasMessageContaining(AzureWish.PROBE_COUNT);
    assertThatThrownBy(
            () -> p.ensure(plan(ref("c", 3), nodes, Map.of(AzureWish.PROBE_INTERVAL, "60"))))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .hasMessageContaining("under 120 s");
    p.close();
  }

  @Test
  @DisplayName(
      "4. two Services on one public IP: the second gets a Warning naming the frontend that holds it;"
          + " a Basic IP is refused naming its SKU")
  void onePublicIpTwoServices() throws Exception {
    ArmFake fake = selfManaged();
    String id = AzureFixture.network(AzureFixture.GROUP, "publicIPAddresses", "shop-ip");
    fake.seed(
        id,
        "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"properties\":{\"publicIPAllocationMethod\":\"Static\"}}");
    String basic = AzureFixture.network(AzureFixture.GROUP, "publicIPAddresses", "old-ip");
    fake.seed(
        basic,
        "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Basic\"},\"properties\":{\"publicIPAllocationMethod\":\"Static\"}}");
    AzureProvider p = AzureFixture.provider(fake, context("c"));
    p.ensure(plan(ref("c", 1), nodes, Map.of(AzureWish.PIP_NAME, "shop-ip")));
    p.ensure(plan(ref("c", 1), nodes, Map.of(AzureWish.PIP_NAME, "shop-ip"))); // its own: fine
    assertThatThrownBy(
            () -> p.ensure(plan(ref("c", 2), nodes, Map.of(AzureWish.PIP_NAME, "shop-ip"))))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .hasMessageContaining("already used by another Service's frontend");
    String pip = fake.get(id).path("properties").path("ipAddress").asText();
    assertThatThrownBy(() -> p.ensure(plan(ref("c", 4), nodes, Map.of(AzureWish.IPV4, pip))))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .hasMessageContaining("metadata.annotations[" + AzureWish.IPV4 + "]");
    assertThatThrownBy(
            () -> p.ensure(plan(ref("c", 3), nodes, Map.of(AzureWish.PIP_NAME, "old-ip"))))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .hasMessageContaining("SKU Basic");
    p.close();
  }

  @Test
  @DisplayName(
      "5. azure-load-balancer-resource-group: Ferry's IP is made, found and deleted in that group (and"
          + " listed for gc); a user's IP is taken from it")
  void pipResourceGroup() throws Exception {
    ArmFake fake = selfManaged();
    AzureProvider p = AzureFixture.provider(fake, context("c"));
    LoadBalancerRef ref = ref("c", 1);
    p.ensure(plan(ref, nodes, Map.of(AzureWish.PIP_RESOURCE_GROUP, "rg-users")));
    assertThat(
            fake.get(
                AzureFixture.network("rg-users", "publicIPAddresses", AzureNames.service(ref))))
        .isNotNull();
    assertThat(p.listOwned("c")).contains(ref);
    p.ensureDeleted(ref);
    assertThat(fake.all("publicIPAddresses")).isEmpty();

    String users = AzureFixture.network("rg-users", "publicIPAddresses", "users-ip");
    fake.seed(
        users,
        "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"properties\":{\"publicIPAllocationMethod\":\"Static\"}}");
    String ip = fake.get(users).path("properties").path("ipAddress").asText();
    Map<String, String> a = new HashMap<>(Map.of(AzureWish.PIP_RESOURCE_GROUP, "rg-users"));
    LoadBalancerPlan byIp =
        plan(ref("c", 2), nodes, a).toBuilder().requestedIp(java.util.Optional.of(ip)).build();
    assertThat(p.ensure(byIp).ingress().get(0).ip()).contains(ip);
    p.close();
  }

  @Test
  @DisplayName(
      "6. source ranges of both families: the NSG rules hold IPv4 only (the frontend is IPv4), with a"
          + " Warning for the IPv6 ones; only-IPv6 ranges leave the port closed")
  void securityRulesPerFamily() throws Exception {
    ArmFake fake = selfManaged();
    AzureProvider p = AzureFixture.provider(fake, context("c"));
    LoadBalancerRef ref = ref("c", 1);
    LoadBalancerPlan both =
        plan(ref, nodes, Map.of()).toBuilder()
            .sourceRanges(List.of("203.0.113.0/24", "2001:db8::/32"))
            .build();
    String ip = p.ensure(both).ingress().get(0).ip().orElseThrow();
    JsonNode nsg =
        fake.get(
            AzureFixture.network(AzureFixture.GROUP, "networkSecurityGroups", AzureFixture.NSG));
    // what the group really admits: the Service's ports from its IPv4 range, at its address only
    for (var l : both.listeners()) {
      assertThat(
              NsgExposure.problems(
                  nsg,
                  l.protocol().name(),
                  ip,
                  l.port(),
                  List.of("203.0.113.9"),
                  List.of("198.51.100.7", "20.1.2.3"),
                  "20.61.250.250"))
          .as("%s %d", l.protocol(), l.port())
          .isEmpty();
    }
    assertThat(NsgExposure.admits(nsg, "Tcp", "203.0.113.9", ip, 8443))
        .as("another port")
        .isFalse();
    List<JsonNode> rules = new ArrayList<>();
    fake.get(AzureFixture.network(AzureFixture.GROUP, "networkSecurityGroups", AzureFixture.NSG))
        .path("properties")
        .path("securityRules")
        .forEach(
            r -> {
              if (r.path("name").asText().startsWith("ferry-")) rules.add(r);
            });
    assertThat(rules)
        .hasSize(2)
        .allSatisfy(
            r ->
                assertThat(r.path("properties").path("sourceAddressPrefixes").toString())
                    .isEqualTo("[\"203.0.113.0/24\"]"));
    assertThat(warnings)
        .anyMatch(w -> w.startsWith("SourceRangesIgnored") && w.contains("2001:db8::/32"));
    p.ensure(plan(ref, nodes, Map.of()).toBuilder().sourceRanges(List.of("2001:db8::/32")).build());
    JsonNode closed =
        fake.get(
            AzureFixture.network(AzureFixture.GROUP, "networkSecurityGroups", AzureFixture.NSG));
    for (var l : both.listeners()) {
      assertThat(
              NsgExposure.problems(
                  closed,
                  l.protocol().name(),
                  ip,
                  l.port(),
                  List.of(),
                  List.of("203.0.113.9", "198.51.100.7"),
                  "20.61.250.250"))
          .as("only IPv6 ranges: the IPv4 family stays closed")
          .isEmpty();
    }
    assertThat(
            fake.get(
                    AzureFixture.network(
                        AzureFixture.GROUP, "networkSecurityGroups", AzureFixture.NSG))
                .path("properties")
                .path("securityRules")
                .toString())
        .doesNotContain("ferry-");
    p.close();
  }

  @Test
  @DisplayName(
      "7. upstream annotations: ipv4, tcp-idle-timeout, disable-tcp-reset, floating IP off, pip-prefix-id,"
          + " allowed-service-tags, health-probe-protocol, pip-tags honoured; any other azure- annotation warned")
  void annotations() throws Exception {
    ArmFake fake = selfManaged();
    String prefix = AzureFixture.network(AzureFixture.GROUP, "publicIPPrefixes", "prefix");
    fake.seed(
        prefix, "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"properties\":{}}");
    AzureProvider p = AzureFixture.provider(fake, context("c"));
    LoadBalancerRef ref = ref("c", 1);
    Map<String, String> a =
        Map.of(
            AzureWish.IDLE_TIMEOUT,
            "30",
            AzureWish.DISABLE_TCP_RESET,
            "true",
            AzureWish.DISABLE_FLOATING_IP,
            "true",
            AzureWish.PIP_PREFIX,
            prefix,
            AzureWish.SERVICE_TAGS,
            "AzureFrontDoor.Backend",
            AzureWish.PROBE_PROTOCOL,
            "tcp",
            AzureWish.PIP_TAGS,
            "team=shop,env=prod",
            "service.beta.kubernetes.io/azure-load-balancer-enable-high-availability-ports",
            "true");
    p.ensure(plan(ref, nodes, a).toBuilder().sourceRanges(List.of("203.0.113.0/24")).build());
    JsonNode lb = lb(fake, AzureFixture.GROUP, "ferry-c").path("properties");
    JsonNode tcp = null;
    for (JsonNode r : lb.path("loadBalancingRules")) {
      if (r.path("properties").path("protocol").asText().equals("Tcp")) tcp = r.path("properties");
    }
    assertThat(tcp.path("idleTimeoutInMinutes").asInt()).isEqualTo(30);
    assertThat(tcp.path("enableTcpReset").asBoolean()).isFalse();
    assertThat(tcp.path("enableFloatingIP").asBoolean()).isFalse();
    assertThat(tcp.path("backendPort").asInt()).isEqualTo(30080);
    assertThat(lb.path("probes").get(0).path("properties").path("protocol").asText())
        .isEqualTo("Tcp");
    JsonNode pip =
        fake.get(
            AzureFixture.network(AzureFixture.GROUP, "publicIPAddresses", AzureNames.service(ref)));
    assertThat(pip.path("properties").path("publicIPPrefix").path("id").asText()).isEqualTo(prefix);
    assertThat(pip.path("tags").path("team").asText()).isEqualTo("shop");
    JsonNode nsg =
        fake.get(
            AzureFixture.network(AzureFixture.GROUP, "networkSecurityGroups", AzureFixture.NSG));
    String ip = pip.path("properties").path("ipAddress").asText();
    int port = plan(ref, nodes, a).listeners().get(0).port();
    assertThat(
            NsgExposure.problems(
                nsg,
                "Tcp",
                ip,
                port,
                List.of("203.0.113.9", "tag:AzureFrontDoor.Backend"),
                List.of("198.51.100.7"),
                "20.61.250.250"))
        .isEmpty();
    assertThat(warnings)
        .anyMatch(
            w ->
                w.startsWith("UnsupportedAnnotation")
                    && w.contains("enable-high-availability-ports"));
    LoadBalancerRef v4 = ref("c", 2);
    assertThatThrownBy(() -> p.ensure(plan(v4, nodes, Map.of(AzureWish.IPV4, "20.1.2.3"))))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .hasMessageContaining("20.1.2.3");
    p.close();
  }

  @Test
  @DisplayName(
      "8. TCP rules send resets (UDP rules have none); outbound SNAT off by default, on by setting")
  void tcpResetAndSnat() throws Exception {
    ArmFake fake = selfManaged();
    AzureProvider p = AzureFixture.provider(fake, context("c"));
    p.ensure(plan(ref("c", 1), nodes, Map.of()));
    for (JsonNode r :
        lb(fake, AzureFixture.GROUP, "ferry-c").path("properties").path("loadBalancingRules")) {
      boolean tcp = r.path("properties").path("protocol").asText().equals("Tcp");
      assertThat(r.path("properties").path("enableTcpReset").asBoolean()).isEqualTo(tcp);
      assertThat(r.path("properties").path("disableOutboundSnat").asBoolean()).isTrue();
    }
    p.close();
    Map<String, String> s = AzureFixture.settings(fake);
    s.put(AzureProviderFactory.DISABLE_OUTBOUND_SNAT, "false");
    AzureProvider q =
        AzureProviderFactory.create(
            ProviderContext.builder("d").settings(s).build(),
            10_000,
            Duration.ofMillis(5),
            AzureSettings.Limits.AZURE,
            true);
    q.ensure(plan(ref("d", 1), List.of(AzureFixture.node(20)), Map.of()));
    assertThat(
            lb(fake, AzureFixture.GROUP, "ferry-d")
                .path("properties")
                .path("loadBalancingRules")
                .get(0)
                .path("properties")
                .path("disableOutboundSnat")
                .asBoolean())
        .isFalse();
    q.close();
  }

  @Test
  @DisplayName(
      "9. a Failed public IP is written again; ResourceGroupNotFound is an error, not an empty list; a"
          + " long Retry-After is kept; no free NSG priority is a quota error; no If-None-Match is sent")
  void failureModes() throws Exception {
    ArmFake fake = selfManaged();
    AzureProvider p = AzureFixture.provider(fake, context("c"));
    LoadBalancerRef ref = ref("c", 1);
    p.ensure(plan(ref, nodes, Map.of()));
    String pipId =
        AzureFixture.network(AzureFixture.GROUP, "publicIPAddresses", AzureNames.service(ref));
    fake.state(pipId, "Failed");
    p.ensure(plan(ref, nodes, Map.of()));
    assertThat(fake.get(pipId).path("properties").path("provisioningState").asText())
        .isEqualTo("Succeeded");

    Map<String, String> s = AzureFixture.settings(fake);
    s.put(AzureProviderFactory.RESOURCE_GROUP, "rg-gone");
    s.put(AzureProviderFactory.LOAD_BALANCER, "own");
    AzureProvider gone =
        AzureProviderFactory.create(
            ProviderContext.builder("c").settings(s).build(),
            10_000,
            Duration.ofMillis(5),
            AzureSettings.Limits.AZURE,
            true);
    assertThatThrownBy(
            () ->
                gone.arm()
                    .list(
                        "x",
                        gone.settings().publicIpsCollection("rg-gone"),
                        com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner
                            ::fromJson))
        .hasMessageContaining("ResourceGroupNotFound");

    fake.throttleNext(10, 90);
    assertThatThrownBy(() -> p.find(ref))
        .isInstanceOf(ProviderException.Throttled.class)
        .satisfies(
            e ->
                assertThat(((ProviderException.Throttled) e).retryAfter())
                    .isEqualTo(Duration.ofSeconds(90)));
    fake.throttleNext(0);

    // another operation on the resource (409) and an operation that ends Canceled: a Transient
    // error
    // naming ARM's word, the Service retried later; the next ensure goes through
    LoadBalancerRef busy = ref("c", 2);
    fake.busyNextWrites(1);
    assertThatThrownBy(() -> p.ensure(plan(busy, nodes, Map.of())))
        .isInstanceOf(ProviderException.Transient.class)
        .hasMessageContaining("AnotherOperationInProgress");
    fake.failNextOperation("Canceled");
    assertThatThrownBy(() -> p.ensure(plan(busy, nodes, Map.of())))
        .isInstanceOf(ProviderException.Transient.class)
        .hasMessageContaining("Canceled");
    assertThat(p.ensure(plan(busy, nodes, Map.of())).ingress()).isNotEmpty();

    java.util.Set<Integer> all = new java.util.HashSet<>();
    for (int i = 500; i <= 4096; i++) all.add(i);
    assertThatThrownBy(() -> AzureSecurityRules.free(all, "x"))
        .isInstanceOf(ProviderException.QuotaExceeded.class)
        .hasMessageContaining("priority");
    p.close();
  }
}
