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
    admin.services().inNamespace(NS).withName("azure-shop").delete();
    ClusterIT.eventually().until(() -> get() == null);
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
}
