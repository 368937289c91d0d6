package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.controller.ControllerProcess;
import dev.ferry.provider.azure.ArmFake;
import dev.ferry.provider.azure.AzureFixture;
import dev.ferry.provider.azure.NsgExposure;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Azure end to end on AKS: the controller process with {@code --provider azure} and the chart's
 * default cluster name against the ARM fake seeded as an AKS node resource group (AKS's {@code
 * kubernetes} load balancer with its NIC pools, outbound rule and a Service of its own, AKS's NSG),
 * and the real kube-apiserver, with exactly the chart's RBAC. Ferry must join AKS's load balancer
 * without changing any of AKS's parts, before, during and after its Service. The real API server
 * validates the status (an IP with {@code ipMode: VIP}).
 */
class AzureClusterIT {

  // the chart's default cluster name, which is also AKS's
  private static final String CLUSTER = "kubernetes";
  private static final String NS = "default";
  private static final String SUB = AzureFixture.SUBSCRIPTION;
  private static final String GROUP = AzureFixture.AKS_GROUP;
  private static final String LB = AzureFixture.network(GROUP, "loadBalancers", "kubernetes");
  private static final String NSG =
      AzureFixture.network(GROUP, "networkSecurityGroups", AzureFixture.AKS_NSG);

  private static RealApiServer api;
  private static KubernetesClient admin;
  @TempDir static Path dir;
  private final List<ControllerProcess> running = new ArrayList<>();
  private final List<String> nodes = new ArrayList<>();
  private ArmFake fake;

  @BeforeAll
  static void apiServer() throws Exception {
    api = RealApiServer.get();
    admin = api.admin;
  }

  @AfterEach
  void cleanUp() {
    // a failed run leaves its Service: released while its controller still runs, so no other
    // test's controller takes it up
    for (String name : List.of("azure-shop", "azure-keep", "azure-a", "azure-b")) {
      admin.services().inNamespace(NS).withName(name).delete();
    }
    ClusterIT.eventually()
        .until(
            () ->
                List.of("azure-shop", "azure-keep", "azure-a", "azure-b").stream()
                    .allMatch(n -> admin.services().inNamespace(NS).withName(n).get() == null));
    running.forEach(ControllerProcess::close);
    nodes.forEach(n -> admin.nodes().withName(n).delete());
    if (fake != null) {
      fake.close();
    }
  }

  private void node(String name, String address) {
    CloudE2e.node(
        admin,
        name,
        "azure:///subscriptions/"
            + SUB
            + "/resourceGroups/mc/providers/Microsoft.Compute/virtualMachines/"
            + name,
        address);
    nodes.add(name);
  }

  private static Service get() {
    return admin.services().inNamespace(NS).withName("azure-shop").get();
  }

  private static LoadBalancerIngress ingress() {
    return CloudE2e.ingress(admin, NS, "azure-shop");
  }

  @Test
  @DisplayName(
      "on an AKS-shaped node resource group with the chart's default cluster name, a 2-port Service"
          + " gets a public IP (ipMode VIP) on AKS's kubernetes load balancer: its frontend, two"
          + " floating-IP rules to AKS's pool, the shared kube-proxy probe (2 failures), an NSG rule to"
          + " its address; AKS's parts are unchanged throughout; deletion leaves nothing of it")
  void endToEnd() throws Exception {
    fake = AzureFixture.aks();
    java.util.Map<String, String> aks = AzureFixture.aksParts(fake);
    node("aks-node-1", "127.0.110.1");
    node("aks-node-2", "127.0.110.2");
    List<String> args =
        new ArrayList<>(
            List.of(
                "--provider",
                "azure",
                "--cluster-name",
                CLUSTER,
                "--provider-setting",
                "azure.subscription-id=" + SUB,
                "--provider-setting",
                "azure.resource-group=" + GROUP,
                "--provider-setting",
                "azure.location=westeurope",
                "--provider-setting",
                "azure.vnet-name=aks-vnet-31415926",
                "--provider-setting",
                "azure.security-group=" + AzureFixture.AKS_NSG,
                "--provider-setting",
                "azure.endpoint=" + fake.endpoint()));
    running.add(ClusterControllers.start(api, dir, args));

    Service shop =
        new ServiceBuilder()
            .withNewMetadata()
            .withName("azure-shop")
            .withNamespace(NS)
            .endMetadata()
            .withNewSpec()
            .withType("LoadBalancer")
            .addToSelector("app", "shop")
            .addNewPort()
            .withName("http")
            .withPort(80)
            .withProtocol("TCP")
            .endPort()
            .addNewPort()
            .withName("dns")
            .withPort(53)
            .withProtocol("UDP")
            .endPort()
            .endSpec()
            .build();
    admin.services().inNamespace(NS).resource(shop).create();

    ClusterIT.eventually().until(() -> ingress() != null);
    LoadBalancerIngress ingress = ingress();
    assertThat(ingress.getIpMode()).isEqualTo("VIP");
    assertThat(ingress.getIp()).startsWith("20.61.");
    JsonNode lb = fake.get(LB).path("properties");
    assertThat(ferrys(lb.path("frontendIPConfigurations"))).hasSize(1);
    assertThat(ferrys(lb.path("loadBalancingRules")))
        .hasSize(2)
        .allSatisfy(
            r -> {
              assertThat(r.path("properties").path("enableFloatingIP").asBoolean()).isTrue();
              assertThat(r.path("properties").path("backendAddressPool").path("id").asText())
                  .endsWith("/backendAddressPools/kubernetes");
            });
    assertThat(ferrys(lb.path("probes")))
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.path("properties").path("port").asInt()).isEqualTo(10256);
              assertThat(p.path("properties").path("intervalInSeconds").asInt()).isEqualTo(5);
              assertThat(p.path("properties").path("probeThreshold").asInt()).isEqualTo(2);
            });
    assertThat(fake.get(NSG).path("properties").path("securityRules").toString())
        .contains(ingress.getIp(), "\"80\"", "\"53\"");
    // what AKS's NSG now admits: this Service's ports from anyone, at its address only
    JsonNode nsg = fake.get(NSG);
    for (String[] port : new String[][] {{"Tcp", "80"}, {"Udp", "53"}}) {
      assertThat(
              NsgExposure.problems(
                  nsg,
                  port[0],
                  ingress.getIp(),
                  Integer.parseInt(port[1]),
                  List.of("198.51.100.7"),
                  List.of(),
                  "20.61.250.250"))
          .isEmpty();
    }
    assertThat(NsgExposure.admits(nsg, "Tcp", "198.51.100.7", ingress.getIp(), 22)).isFalse();
    assertThat(AzureFixture.aksParts(fake)).as("AKS's parts").isEqualTo(aks);
    node("aks-node-3", "127.0.110.3");

    String metrics = CloudE2e.metrics(running.get(0));
    assertThat(metrics)
        .contains(
            "ferry_provider_cloud_calls_total{operation=\"loadBalancers.put\",provider=\"azure\",result=\"ok\"}");

    admin.services().inNamespace(NS).withName("azure-shop").delete();
    ClusterIT.eventually().until(() -> get() == null);
    assertThat(fake.get(LB).toString())
        .as("nothing of Ferry's left on AKS's")
        .doesNotContain("ferry-");
    assertThat(fake.all("publicIPAddresses").toString()).doesNotContain("ferry-");
    assertThat(fake.get(NSG).path("properties").path("securityRules").toString())
        .doesNotContain("ferry-");
    assertThat(AzureFixture.aksParts(fake)).as("AKS's parts").isEqualTo(aks);
  }

  private static List<JsonNode> ferrys(JsonNode parts) {
    List<JsonNode> out = new ArrayList<>();
    parts.forEach(
        p -> {
          if (p.path("name").asText().startsWith("ferry-")) {
            out.add(p);
          }
        });
    return out;
  }

  @Test
  @DisplayName(
      "dual-stack on a self-managed cluster: PreferDualStack on the IPv4-only network gets IPv4 and"
          + " a Normal IPFamilyNotServed event; once the network is dual-stack the next periodic"
          + " check adds the IPv6 frontend (status IPv4, IPv6), whose pool holds the IPv6 address"
          + " of the node that has one (the other gets a Normal event); deletion leaves nothing")
  void dualStack() throws Exception {
    fake = AzureFixture.start();
    String group = AzureFixture.GROUP;
    dualNode("az-ds-0", "127.0.113.1", "fd00:db8:deca:deed::10");
    dualNode("az-ds-1", "127.0.113.2", null);
    // the resync: when a PreferDualStack Service gains the family it lacked
    selfManaged("--resync-period", "3s");
    Service shop =
        new ServiceBuilder()
            .withNewMetadata()
            .withName("azure-shop")
            .withNamespace(NS)
            .endMetadata()
            .withNewSpec()
            .withType("LoadBalancer")
            .withIpFamilyPolicy("PreferDualStack")
            .addToSelector("app", "shop")
            .addNewPort()
            .withName("http")
            .withPort(80)
            .withProtocol("TCP")
            .endPort()
            .endSpec()
            .build();
    admin.services().inNamespace(NS).resource(shop).create();
    ClusterIT.eventually().until(() -> ingress() != null);
    assertThat(get().getStatus().getLoadBalancer().getIngress()).hasSize(1);
    ClusterIT.eventually().until(() -> !events("IPFamilyNotServed").isEmpty());
    assertThat(events("IPFamilyNotServed").get(0).getMessage())
        .contains("virtual network vnet-ferry has no IPv6 address space");

    AzureFixture.dualStack(fake);
    ClusterIT.eventually()
        .until(() -> get().getStatus().getLoadBalancer().getIngress().size() == 2);
    List<String> ips =
        get().getStatus().getLoadBalancer().getIngress().stream().map(i -> i.getIp()).toList();
    assertThat(ips.get(0)).startsWith("20.61.");
    assertThat(ips.get(1)).startsWith("2603:1020:206:");
    String lb = AzureFixture.network(group, "loadBalancers", "ferry-self-managed");
    List<String> v6Pool = new ArrayList<>();
    for (JsonNode pool : fake.get(lb).path("properties").path("backendAddressPools")) {
      if (pool.path("name").asText().equals("ferry-self-managed-IPv6")) {
        pool.path("properties")
            .path("loadBalancerBackendAddresses")
            .forEach(a -> v6Pool.add(a.path("properties").path("ipAddress").asText()));
      }
    }
    assertThat(v6Pool).containsExactly("fd00:db8:deca:deed::10");
    ClusterIT.eventually().until(() -> !events("NodesWithoutFamilyAddress").isEmpty());
    assertThat(events("NodesWithoutFamilyAddress").get(0).getMessage()).contains("az-ds-1");
    String nsg =
        fake.get(AzureFixture.network(group, "networkSecurityGroups", AzureFixture.NSG)).toString();
    assertThat(nsg).contains(ips.get(1), "::/0");

    admin.services().inNamespace(NS).withName("azure-shop").delete();
    ClusterIT.eventually().until(() -> get() == null);
    assertThat(fake.get(lb)).as("Ferry's load balancer goes with its last frontend").isNull();
    assertThat(fake.all("publicIPAddresses").toString()).doesNotContain("ferry-");
    assertThat(
            fake.get(AzureFixture.network(group, "networkSecurityGroups", AzureFixture.NSG))
                .toString())
        .doesNotContain("ferry-");
  }

  /**
   * A controller for the fake's self-managed group (Ferry's own load balancer), and {@code more}.
   */
  private void selfManaged(String... more) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--provider", "azure",
                "--cluster-name", "self-managed",
                "--provider-setting", "azure.subscription-id=" + SUB,
                "--provider-setting", "azure.resource-group=" + AzureFixture.GROUP,
                "--provider-setting", "azure.location=westeurope",
                "--provider-setting", "azure.vnet-name=vnet-ferry",
                "--provider-setting", "azure.subnet=nodes",
                "--provider-setting", "azure.security-group=" + AzureFixture.NSG,
                "--provider-setting", "azure.endpoint=" + fake.endpoint()));
    args.addAll(List.of(more));
    running.add(ClusterControllers.start(api, dir, args));
  }

  private static Service lb(String name, int port, Map<String, String> annotations) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
        .addToSelector("app", name)
        .addNewPort()
        .withName("http")
        .withPort(port)
        .withProtocol("TCP")
        .endPort()
        .endSpec()
        .build();
  }

  private static String ipOf(String name) {
    LoadBalancerIngress in = CloudE2e.ingress(admin, NS, name);
    return in == null ? null : in.getIp();
  }

  private void deleteService(String name) {
    admin.services().inNamespace(NS).withName(name).delete();
    ClusterIT.eventually()
        .until(() -> admin.services().inNamespace(NS).withName(name).get() == null);
  }

  private List<String> publicIps() {
    return fake.all("publicIPAddresses").stream()
        .map(n -> n.path("name").asText() + "=" + n.path("properties").path("ipAddress").asText())
        .toList();
  }

  @Test
  @DisplayName(
      "through the controller on the ARM fake: Retain keeps the public IP, tagged retained, and a"
          + " Service made again with claim-retained gets it; two Services with one allow-shared-ip"
          + " key share one frontend and public IP, which go with the last")
  void retainAndShare() throws Exception {
    fake = AzureFixture.start();
    node("az-rs-0", "127.0.113.5");
    selfManaged();
    Service keep =
        lb(
            "azure-keep",
            80,
            Map.of("ferry.dev/reclaim-policy", "Retain", "ferry.dev/claim-retained", "true"));
    admin.services().inNamespace(NS).resource(keep).create();
    ClusterIT.eventually().until(() -> ipOf("azure-keep") != null);
    String ip = ipOf("azure-keep");
    deleteService("azure-keep");
    assertThat(fake.all("publicIPAddresses"))
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.path("properties").path("ipAddress").asText()).isEqualTo(ip);
              assertThat(p.path("tags").path("ferry.dev-reclaim").asText()).isEqualTo("Retain");
              assertThat(p.path("tags").has("ferry.dev-service-uid")).isFalse();
            });
    admin.services().inNamespace(NS).resource(keep).create();
    ClusterIT.eventually().until(() -> ipOf("azure-keep") != null);
    assertThat(ipOf("azure-keep")).isEqualTo(ip);

    Map<String, String> shared = Map.of("ferry.dev/allow-shared-ip", "front");
    admin.services().inNamespace(NS).resource(lb("azure-a", 8080, shared)).create();
    admin.services().inNamespace(NS).resource(lb("azure-b", 8081, shared)).create();
    ClusterIT.eventually().until(() -> ipOf("azure-a") != null && ipOf("azure-b") != null);
    String sharedIp = ipOf("azure-a");
    assertThat(ipOf("azure-b")).isEqualTo(sharedIp).isNotEqualTo(ip);
    assertThat(publicIps()).hasSize(2); // the retained one in use, and the key's
    deleteService("azure-a");
    assertThat(publicIps()).anyMatch(p -> p.endsWith("=" + sharedIp));
    deleteService("azure-b");
    assertThat(publicIps()).noneMatch(p -> p.endsWith("=" + sharedIp));
  }

  private static List<io.fabric8.kubernetes.api.model.Event> events(String reason) {
    return admin.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "azure-shop".equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  /** A Node with an IPv4 InternalIP and, if given, an IPv6 one. */
  private void dualNode(String name, String v4, String v6) {
    io.fabric8.kubernetes.api.model.NodeBuilder b =
        new io.fabric8.kubernetes.api.model.NodeBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withNewSpec()
            .withProviderID(
                "azure:///subscriptions/"
                    + SUB
                    + "/resourceGroups/mc/providers/Microsoft.Compute/virtualMachines/"
                    + name)
            .endSpec();
    var status =
        b.withNewStatus().addNewAddress().withType("InternalIP").withAddress(v4).endAddress();
    if (v6 != null) {
      status.addNewAddress().withType("InternalIP").withAddress(v6).endAddress();
    }
    status.addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus();
    admin.nodes().resource(b.build()).create();
    nodes.add(name);
  }
}
