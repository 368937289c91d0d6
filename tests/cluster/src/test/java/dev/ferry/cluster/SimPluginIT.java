package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.controller.ControllerProcess;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scale benchmark's simulated cloud, {@code tools/sim-provider}, loaded by the controller
 * process from {@code --plugin-path} against the real API server with the chart's RBAC (the bench
 * itself runs the controller as an administrator): the status the real server validates, one cloud
 * call per change read from the simulated cloud's {@code /stats}, a node change as one {@code
 * UpdatedLoadBalancer} Event whose count is bumped, and deletion releasing the finalizer. The cloud
 * enforces AWS's buckets and the provider paces itself against its copy of them (every call takes
 * its token first), with no call refused.
 */
class SimPluginIT {

  private static final String NS = "default";
  private static final String CLASS = "ferry.dev/sim";
  private static final Path PLUGINS =
      Path.of("../../tools/sim-provider/target/plugin").toAbsolutePath().normalize();

  private static RealApiServer api;
  private static KubernetesClient admin;
  @TempDir static Path dir;
  private ControllerProcess controller;

  @BeforeAll
  static void apiServer() throws Exception {
    assertThat(PLUGINS.resolve("sim"))
        .as("the simulated cloud's plugin is built before this module")
        .isDirectory();
    api = RealApiServer.get();
    admin = api.admin;
  }

  @AfterEach
  void cleanUp() {
    admin.services().inNamespace(NS).withName("sim-web").delete();
    if (controller != null) {
      ClusterIT.eventually()
          .until(() -> admin.services().inNamespace(NS).withName("sim-web").get() == null);
      controller.close();
    }
    for (int i = 0; i < 2; i++) {
      admin.nodes().withName("sim-node-" + i).delete();
    }
  }

  private static void node(int i) {
    admin
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName("sim-node-" + i)
                .endMetadata()
                .withNewSpec()
                .withProviderID("sim://sim-node-" + i)
                .endSpec()
                .withNewStatus()
                .addNewAddress()
                .withType("InternalIP")
                .withAddress("10.9.0." + (i + 1))
                .endAddress()
                .endStatus()
                .build())
        .create();
  }

  private static JsonNode stats(int port) throws Exception {
    String body =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stats")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    return new ObjectMapper().readTree(body);
  }

  private static long calls(int port, String method) {
    try {
      return stats(port).path("calls").path(method).asLong(0);
    } catch (Exception e) {
      return -1;
    }
  }

  private static List<Event> updated() {
    return admin.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "sim-web".equals(e.getInvolvedObject().getName()))
        .filter(e -> "UpdatedLoadBalancer".equals(e.getReason()))
        .toList();
  }

  @Test
  @DisplayName(
      "loaded from --plugin-path with the chart's RBAC: one ensure, one backend update per node"
          + " change (one Event, its count bumped), one delete, the finalizer released; paced"
          + " under AWS's buckets, nothing throttled")
  void simulatedCloudEndToEnd() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    node(0);
    controller =
        ClusterControllers.start(
            api,
            dir,
            List.of(
                "--provider",
                "sim",
                "--plugin-path",
                PLUGINS.toString(),
                "--load-balancer-class",
                CLASS,
                "--no-handle-default-class",
                "--provider-setting",
                "sim.latency=5ms",
                "--provider-setting",
                "sim.buckets=aws",
                "--provider-setting",
                "sim.stats-port=" + port));
    Service web =
        new ServiceBuilder()
            .withNewMetadata()
            .withName("sim-web")
            .withNamespace(NS)
            .endMetadata()
            .withNewSpec()
            .withType("LoadBalancer")
            .withLoadBalancerClass(CLASS)
            .addToSelector("app", "sim-web")
            .addNewPort()
            .withName("http")
            .withPort(80)
            .withProtocol("TCP")
            .endPort()
            .endSpec()
            .build();
    admin.services().inNamespace(NS).resource(web).create();
    ClusterIT.eventually()
        .until(
            () -> admin.services().inNamespace(NS).withName("sim-web").get(),
            s ->
                s.getStatus().getLoadBalancer().getIngress() != null
                    && !s.getStatus().getLoadBalancer().getIngress().isEmpty());
    var ingress =
        admin
            .services()
            .inNamespace(NS)
            .withName("sim-web")
            .get()
            .getStatus()
            .getLoadBalancer()
            .getIngress()
            .get(0);
    assertThat(ingress.getIp()).startsWith("10.");
    assertThat(ingress.getIpMode()).isEqualTo("VIP");
    assertThat(calls(port, "ensure")).isEqualTo(1);

    // two node changes: one backend update each, and one Event whose count goes to 2
    node(1);
    ClusterIT.eventually().until(() -> calls(port, "updateBackends") == 1);
    admin.nodes().withName("sim-node-1").delete();
    ClusterIT.eventually().until(() -> calls(port, "updateBackends") == 2);
    ClusterIT.eventually()
        .until(SimPluginIT::updated, l -> l.size() == 1 && l.get(0).getCount() == 2);
    assertThat(calls(port, "ensure")).isEqualTo(1);

    admin.services().inNamespace(NS).withName("sim-web").delete();
    ClusterIT.eventually()
        .until(() -> admin.services().inNamespace(NS).withName("sim-web").get() == null);
    assertThat(calls(port, "ensureDeleted")).isEqualTo(1);
    JsonNode stats = stats(port);
    assertThat(stats.path("budget").asText()).isEqualTo("aws");
    assertThat(stats.path("throttled").size()).isZero();
  }
}
