package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.HealthCheck;
import com.google.protobuf.Message;
import dev.ferry.controller.ControllerProcess;
import dev.ferry.provider.gcp.ComputeFake;
import io.fabric8.kubernetes.api.model.Event;
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
 * GCP end to end: the controller process with {@code --provider gcp} against the Compute fake (the
 * vendor's own message classes, operations polled to DONE) and the real kube-apiserver, with
 * exactly the chart's RBAC. The real API server validates the status (an IP with {@code ipMode:
 * VIP}).
 */
class GcpClusterIT {

  private static final String CLUSTER = "gcp-e2e";
  private static final String NS = "default";
  private static final String PROJECT = "ferry-e2e";
  private static final String REGION = "europe-west1";
  private static final String TAG = "gke-e2e-node";

  private static RealApiServer api;
  private static KubernetesClient admin;
  @TempDir static Path dir;
  private final List<ControllerProcess> running = new ArrayList<>();
  private final List<String> nodes = new ArrayList<>();
  private ComputeFake fake;

  @BeforeAll
  static void apiServer() throws Exception {
    api = RealApiServer.get();
    admin = api.admin;
  }

  @AfterEach
  void cleanUp() {
    // a failed run leaves its Service: released while its controller still runs, so no other
    // test's controller takes it up
    admin.services().inNamespace(NS).withName("gcp-shop").delete();
    ClusterIT.eventually().until(() -> get() == null);
    running.forEach(ControllerProcess::close);
    nodes.forEach(n -> admin.nodes().withName(n).delete());
    if (fake != null) {
      fake.close();
    }
  }

  private void node(String name, String providerId, String address) {
    CloudE2e.node(admin, name, providerId, address);
    nodes.add(name);
  }

  /** A VM in the fake and its Node. */
  private void vmNode(int n, String zone) {
    String name = "gce-node-" + n;
    fake.addInstance(PROJECT, zone, name, TAG);
    node(name, "gce://" + PROJECT + "/" + zone + "/" + name, "127.0.109." + n);
  }

  private static Service get() {
    return admin.services().inNamespace(NS).withName("gcp-shop").get();
  }

  private static LoadBalancerIngress ingress() {
    return CloudE2e.ingress(admin, NS, "gcp-shop");
  }

  private static List<Event> events(String reason) {
    return admin.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "gcp-shop".equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  private <T extends Message> List<T> all(String collection, Class<T> type) {
    return fake.all(collection).stream().map(type::cast).toList();
  }

  private List<String> members() {
    List<String> out = new ArrayList<>();
    for (BackendService s : all("backendServices", BackendService.class)) {
      s.getBackendsList()
          .forEach(
              b ->
                  fake.membersOf(b.getGroup())
                      .forEach(i -> out.add(i.substring(i.lastIndexOf('/') + 1))));
    }
    return out;
  }

  @Test
  @DisplayName(
      "a 2-port Service gets its address (an IP, ipMode VIP) from a regional network LB; kube-proxy's"
          + " check at GCE's timings; firewalls on the nodes' tag; a Node added joins its zone's"
          + " group; a Node without a VM is skipped with a Warning; deletion leaves nothing")
  void endToEnd() throws Exception {
    fake = new ComputeFake();
    fake.runningPolls(1);
    vmNode(1, REGION + "-b");
    vmNode(2, REGION + "-c");
    vmNode(3, REGION + "-b");
    node("gcp-on-prem", null, "127.0.109.9");

    List<String> args =
        new ArrayList<>(
            List.of(
                "--provider", "gcp",
                "--cluster-name", CLUSTER,
                "--provider-setting", "gcp.project=" + PROJECT,
                "--provider-setting", "gcp.region=" + REGION,
                "--provider-setting", "gcp.endpoint=" + fake.endpoint()));
    running.add(ClusterControllers.start(api, dir, args));

    Service shop =
        new ServiceBuilder()
            .withNewMetadata()
            .withName("gcp-shop")
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
            .withName("https")
            .withPort(443)
            .withProtocol("TCP")
            .endPort()
            .endSpec()
            .build();
    admin.services().inNamespace(NS).resource(shop).create();

    ClusterIT.eventually().until(() -> ingress() != null);
    LoadBalancerIngress ingress = ingress();
    assertThat(ingress.getIpMode()).isEqualTo("VIP"); // passthrough keeps the destination
    assertThat(ingress.getHostname()).isNull();
    ForwardingRule rule = all("forwardingRules", ForwardingRule.class).get(0);
    assertThat(rule.getIPAddress()).isEqualTo(ingress.getIp());
    assertThat(rule.getPortsList()).containsExactly("80", "443");
    assertThat(rule.getDescription())
        .contains("\"kubernetes.io/service-name\":\"default/gcp-shop\"");
    HealthCheck check = all("healthChecks", HealthCheck.class).get(0);
    assertThat(check.getHttpHealthCheck().getPort()).isEqualTo(10256);
    assertThat(check.getHttpHealthCheck().getRequestPath()).isEqualTo("/healthz");
    assertThat(check.getCheckIntervalSec()).as("GCE's default, not Ferry's").isEqualTo(8);
    assertThat(check.getTimeoutSec()).isEqualTo(1);
    assertThat(all("firewalls", Firewall.class))
        .hasSize(2)
        .allSatisfy(f -> assertThat(f.getTargetTagsList()).containsExactly(TAG));
    assertThat(members()).containsExactlyInAnyOrder("gce-node-1", "gce-node-2", "gce-node-3");
    ClusterIT.eventually()
        .until(
            () ->
                events("NodeNotRegistered").stream()
                    .anyMatch(e -> e.getMessage().contains("gcp-on-prem")));

    // a Node joins: its VM goes into its zone's shared group
    vmNode(4, REGION + "-c");
    ClusterIT.eventually().until(() -> members().contains("gce-node-4"));

    String metrics = CloudE2e.metrics(running.get(0));
    assertThat(metrics)
        .contains(
            "ferry_provider_cloud_calls_total{operation=\"forwardingRules.insert\",provider=\"gcp\",result=\"ok\"} 1.0");

    admin.services().inNamespace(NS).withName("gcp-shop").delete();
    ClusterIT.eventually().until(() -> get() == null);
    for (String collection :
        List.of(
            "forwardingRules",
            "backendServices",
            "healthChecks",
            "firewalls",
            "addresses",
            "instanceGroups")) {
      assertThat(fake.all(collection)).as(collection).isEmpty();
    }
  }
}
