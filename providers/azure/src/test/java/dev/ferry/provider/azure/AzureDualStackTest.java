package dev.ferry.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Dual-stack on Azure: an IPv6 Standard public IP and frontend beside the IPv4 ones, rules and a
 * probe per family, an IPv6 pool of the nodes' IPv6 addresses, security rules per family. A cluster
 * network without IPv6 serves a PreferDualStack Service in IPv4 with an event, and refuses the
 * rest; the ARM fake refuses what Azure does across families.
 */
class AzureDualStackTest {

  private static final String CLUSTER = "prod";
  private static final LoadBalancerRef REF = new LoadBalancerRef(CLUSTER, "shop", "web", "uid-v6");

  private final ArmFake fake = AzureFixture.start();
  private final RecordedEvents events = new RecordedEvents();
  private final AzureProvider provider =
      AzureFixture.provider(fake, ProviderContext.builder(CLUSTER).events(events));

  @AfterEach
  void close() {
    provider.close();
    fake.close();
  }

  private static List<Backend> nodes() {
    // node-2 has no IPv6 address: it is no backend of the IPv6 frontend
    return List.of(
        AzureFixture.dualStackNode(0), AzureFixture.dualStackNode(1), AzureFixture.node(2));
  }

  private static LoadBalancerPlan plan(IpFamilyPolicy policy, IpFamily... families) {
    return LoadBalancerPlan.builder(
            REF,
            List.of(new Listener("http", Protocol.TCP, 80, 30080)),
            new dev.ferry.spi.HealthCheck(
                dev.ferry.spi.HealthCheck.Type.HTTP,
                10256,
                "/healthz",
                Duration.ofSeconds(5),
                Duration.ofSeconds(5),
                1,
                2))
        .backends(nodes())
        .ipFamilies(List.of(families))
        .ipFamilyPolicy(policy)
        .sourceRanges(List.of("203.0.113.0/24", "2001:db8::/32"))
        .build();
  }

  private static List<String> ips(LoadBalancerStatus s) {
    return s.ingress().stream().map(i -> i.ip().orElseThrow()).toList();
  }

  private JsonNode lb() {
    return fake.get(AzureFixture.network(AzureFixture.GROUP, "loadBalancers", "ferry-" + CLUSTER));
  }

  private static JsonNode named(JsonNode lb, String kind, String name) {
    for (JsonNode p : lb.path("properties").path(kind)) {
      if (p.path("name").asText().equals(name)) {
        return p;
      }
    }
    return null;
  }

  @Test
  @DisplayName(
      "RequireDualStack [IPv6, IPv4] on a dual-stack network: an IPv6 Standard static public IP"
          + " and frontend, IPv6 rules and probe to a pool of the nodes' IPv6 addresses (a node"
          + " without one left out), security rules per family to each frontend only; IPv6 first,"
          + " also for a fresh provider; a family dropped takes its parts; deletion leaves none")
  void bothFamilies() throws Exception {
    AzureFixture.dualStack(fake);
    List<String> ips =
        ips(provider.ensure(plan(IpFamilyPolicy.RequireDualStack, IpFamily.IPv6, IpFamily.IPv4)));
    assertThat(ips).hasSize(2);
    assertThat(ips.get(0)).startsWith("2603:1020:206:");
    assertThat(IpFamily.of(ips.get(1))).isEqualTo(IpFamily.IPv4);
    String service = AzureNames.service(REF);
    JsonNode pip =
        fake.get(AzureFixture.network(AzureFixture.GROUP, "publicIPAddresses", service + "-IPv6"));
    assertThat(pip.path("sku").path("name").asText()).isEqualTo("Standard");
    assertThat(pip.path("properties").path("publicIPAllocationMethod").asText())
        .isEqualTo("Static");
    assertThat(pip.path("properties").path("publicIPAddressVersion").asText()).isEqualTo("IPv6");
    JsonNode lb = lb();
    JsonNode rule = named(lb, "loadBalancingRules", service + "-TCP-80-IPv6");
    assertThat(rule.path("properties").path("frontendIPConfiguration").path("id").asText())
        .endsWith("/frontendIPConfigurations/" + service + "-IPv6");
    assertThat(rule.path("properties").path("backendAddressPool").path("id").asText())
        .endsWith("/backendAddressPools/ferry-" + CLUSTER + "-IPv6");
    assertThat(rule.path("properties").path("probe").path("id").asText()).endsWith("-IPv6");
    List<String> v6Pool = new ArrayList<>();
    named(lb, "backendAddressPools", "ferry-" + CLUSTER + "-IPv6")
        .path("properties")
        .path("loadBalancerBackendAddresses")
        .forEach(a -> v6Pool.add(a.path("properties").path("ipAddress").asText()));
    assertThat(v6Pool).containsExactly("fd00:db8:deca:deed::4", "fd00:db8:deca:deed::5");
    List<String> rules = new ArrayList<>();
    for (JsonNode r :
        fake.get(
                AzureFixture.network(AzureFixture.GROUP, "networkSecurityGroups", AzureFixture.NSG))
            .path("properties")
            .path("securityRules")) {
      if (AzureNames.owns(REF, r.path("name").asText())) {
        JsonNode p = r.path("properties");
        rules.add(
            r.path("name").asText().replace(service, "")
                + " "
                + p.path("sourceAddressPrefixes")
                + " -> "
                + p.path("destinationAddressPrefix").asText());
      }
    }
    assertThat(rules)
        .containsExactlyInAnyOrder(
            "-tcp [\"203.0.113.0/24\"] -> " + ips.get(1),
            "-tcp-IPv6 [\"2001:db8::/32\"] -> " + ips.get(0));

    AzureProvider fresh = AzureFixture.provider(fake, ProviderContext.builder(CLUSTER));
    assertThat(fresh.find(REF).map(AzureDualStackTest::ips)).hasValue(ips);

    // IPv6 is the primary family: IPv4 is what a Service can drop
    assertThat(ips(provider.ensure(plan(IpFamilyPolicy.SingleStack, IpFamily.IPv6))))
        .containsExactly(ips.get(0));
    assertThat(named(lb(), "frontendIPConfigurations", service)).isNull();
    assertThat(fake.get(AzureFixture.network(AzureFixture.GROUP, "publicIPAddresses", service)))
        .as("the IPv4 public IP went with its frontend")
        .isNull();
    provider.ensureDeleted(REF);
    assertThat(lb()).as("Ferry's load balancer goes with its last frontend").isNull();
    assertThat(fake.all("publicIPAddresses"))
        .noneMatch(p -> AzureNames.owns(REF, p.path("name").asText()));
    assertThat(events.warnings())
        .as("the IPv6-only step named its IPv4 range, which no frontend serves")
        .singleElement()
        .asString()
        .startsWith("SourceRangesIgnored: spec.loadBalancerSourceRanges 203.0.113.0/24 are IPv4");
  }

  @Test
  @DisplayName(
      "IPv6 dropped from [IPv4, IPv6]: its frontend, rules, public IP and Ferry's IPv6 pool go,"
          + " the IPv4 address stays")
  void ipv6Dropped() throws Exception {
    AzureFixture.dualStack(fake);
    List<String> both =
        ips(provider.ensure(plan(IpFamilyPolicy.PreferDualStack, IpFamily.IPv4, IpFamily.IPv6)));
    assertThat(both).hasSize(2);
    String service = AzureNames.service(REF);
    String v6Pip = AzureFixture.network(AzureFixture.GROUP, "publicIPAddresses", service + "-IPv6");
    assertThat(fake.get(v6Pip)).isNotNull();
    assertThat(ips(provider.ensure(plan(IpFamilyPolicy.SingleStack, IpFamily.IPv4))))
        .containsExactly(both.get(0));
    assertThat(fake.get(v6Pip)).isNull();
    assertThat(named(lb(), "frontendIPConfigurations", service + "-IPv6")).isNull();
    assertThat(named(lb(), "backendAddressPools", "ferry-" + CLUSTER + "-IPv6")).isNull();
    assertThat(lb().toString()).doesNotContain("-IPv6");
  }

  @Test
  @DisplayName(
      "on the IPv4-only network: PreferDualStack gets IPv4 and a Normal event naming the virtual"
          + " network; RequireDualStack is refused naming spec.ipFamilyPolicy, nothing made")
  void ipv4OnlyNetwork() throws Exception {
    assertThatThrownBy(
            () ->
                provider.ensure(
                    plan(IpFamilyPolicy.RequireDualStack, IpFamily.IPv4, IpFamily.IPv6)))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e -> assertThat(e.violations().get(0).field()).isEqualTo("spec.ipFamilyPolicy"));
    assertThat(lb()).isNull();
    List<String> ips =
        ips(provider.ensure(plan(IpFamilyPolicy.PreferDualStack, IpFamily.IPv4, IpFamily.IPv6)));
    assertThat(ips).singleElement().satisfies(ip -> assertThat(ip).doesNotContain(":"));
    assertThat(events.normal())
        .singleElement()
        .asString()
        .startsWith("IPFamilyNotServed: spec.ipFamilyPolicy is PreferDualStack")
        .contains("virtual network vnet-ferry has no IPv6 address space");
  }

  @Test
  @DisplayName(
      "on AKS without an IPv6 pool (an IPv4 cluster): PreferDualStack gets IPv4 and the event"
          + " naming kubernetes-IPv6")
  void aksWithoutIpv6Pool() throws Exception {
    try (ArmFake aks = AzureFixture.aks();
        AzureProvider p =
            AzureFixture.aksProvider(aks, ProviderContext.builder(CLUSTER).events(events))) {
      LoadBalancerPlan prefer =
          plan(IpFamilyPolicy.PreferDualStack, IpFamily.IPv4, IpFamily.IPv6).toBuilder()
              .backends(IntStream.range(0, 2).mapToObj(AzureFixture::node).toList())
              .build();
      assertThat(ips(p.ensure(prefer))).hasSize(1);
      assertThat(events.normal())
          .singleElement()
          .asString()
          .contains("no IPv6 backend pool kubernetes-IPv6");
    }
  }

  @Test
  @DisplayName(
      "the fake: an IPv6 frontend's rule to an IPv4 pool is refused (no NAT64), a pool mixing"
          + " versions too, and a Standard IPv6 public IP must be Static")
  void fakeRefusals() throws Exception {
    String lbId = AzureFixture.network(AzureFixture.GROUP, "loadBalancers", "lb");
    String pipId = AzureFixture.network(AzureFixture.GROUP, "publicIPAddresses", "v6");
    assertThat(
            put(
                pipId,
                "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"properties\":"
                    + "{\"publicIPAddressVersion\":\"IPv6\",\"publicIPAllocationMethod\":\"Dynamic\"}}"))
        .contains("StandardSkuPublicIPAddressMustBeStatic");
    assertThat(
            put(
                pipId,
                "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"properties\":"
                    + "{\"publicIPAddressVersion\":\"IPv6\",\"publicIPAllocationMethod\":\"Static\"}}"))
        .doesNotContain("error");
    String frontend = "{\"publicIPAddress\":{\"id\":\"" + pipId + "\"}}";
    String v4Pool =
        "{\"loadBalancerBackendAddresses\":[{\"name\":\"n\",\"properties\":{\"ipAddress\":"
            + "\"10.224.0.4\",\"virtualNetwork\":{\"id\":\"/v\"}}}]}";
    assertThat(
            put(lbId, ArmFakeTest.lb(lbId, frontend, v4Pool, ArmFakeTest.rule(lbId, "r", 80, ""))))
        .contains("LoadBalancingRuleFrontendAndBackendIpVersionMismatch");
    String mixed =
        v4Pool.replace(
            "}}]}",
            "}},{\"name\":\"m\",\"properties\":{\"ipAddress\":\"fd00:db8:deca:deed::4\","
                + "\"virtualNetwork\":{\"id\":\"/v\"}}}]}");
    assertThat(put(lbId, ArmFakeTest.lb(lbId, frontend, mixed, "")))
        .contains("BackendAddressPoolIpAddressesMustHaveSameIpVersion");
  }

  private String put(String id, String body) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(fake.endpoint() + id.substring(1) + "?api-version=2024-05-01"))
                    .PUT(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return r.body();
  }
}
