package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Whole controller processes (ops server, leader election) against the mock API server. */
@EnableKubernetesMockClient(crud = true)
class ControllerProcessTest {

  KubernetesClient client;
  @TempDir Path dir;
  private final List<ControllerProcess> processes = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    processes.forEach(ControllerProcess::close);
  }

  private ControllerProcess start(String... extra) throws IOException {
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: mock, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
        users: [{name: mock, user: {}}]
        contexts: [{name: mock, context: {cluster: mock, user: mock, namespace: default}}]
        current-context: mock
        """
            .formatted(client.getConfiguration().getMasterUrl()));
    List<String> args =
        new ArrayList<>(
            List.of(
                "--kubeconfig",
                kubeconfig.toString(),
                "--metrics-port",
                "0",
                "--metrics-address",
                "127.0.0.1",
                "--provider-setting",
                "local.address-pool=127.0.105.0/24"));
    args.addAll(List.of(extra));
    RunOptions options = new RunOptions();
    new CommandLine(options)
        .setOverwrittenOptionsAllowed(true)
        .parseArgs(args.toArray(String[]::new));
    ControllerProcess p = ControllerProcess.start(options);
    processes.add(p);
    return p;
  }

  private HttpResponse<String> get(ControllerProcess p, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.metricsPort() + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @DisplayName("/healthz, /readyz and /metrics answer with the controller's figures")
  void opsEndpoints() throws Exception {
    ControllerProcess p = start("--no-leader-elect");
    assertThat(get(p, "/healthz").statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> get(p, "/readyz").statusCode() == 200);
    client
        .services()
        .inNamespace("default")
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName("m")
                .endMetadata()
                .withNewSpec()
                .withType("LoadBalancer")
                .addNewPort()
                .withPort(18090)
                .withProtocol("TCP")
                .endPort()
                .endSpec()
                .build())
        .create();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> get(p, "/metrics").body().contains("operation=\"ensure\",result=\"ok\""));
    String metrics = get(p, "/metrics").body();
    assertThat(metrics)
        .contains("ferry_reconcile_duration_seconds_bucket")
        .contains("ferry_queue_depth")
        .contains("ferry_nodeports_allocated 1.0")
        .contains("ferry_nodeports_capacity 2768.0")
        .contains("ferry_provider_calls_seconds_count{operation=\"ensure\",result=\"ok\"} 1");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> get(p, "/metrics").body().contains("ferry_services{reason=\"Provisioned\"} 1.0"));
    assertThat(get(p, "/metrics").body())
        .contains("ferry_services_without_address 0.0", "ferry_leader 1.0");
    // a Service Ferry must refuse counts by its reason, and as one without an address
    client
        .services()
        .inNamespace("default")
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName("bad")
                .addToAnnotations("ferry.dev/health-check-interval", "often")
                .endMetadata()
                .withNewSpec()
                .withType("LoadBalancer")
                .addNewPort()
                .withPort(18091)
                .withProtocol("TCP")
                .endPort()
                .endSpec()
                .build())
        .create();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                get(p, "/metrics")
                    .body()
                    .contains("ferry_services{reason=\"InvalidService\"} 1.0"));
    assertThat(get(p, "/metrics").body()).contains("ferry_services_without_address 1.0");
  }

  @Test
  @DisplayName(
      "with leader election only one of two controllers reconciles, both are ready; when it stops the other takes over")
  void leaderElection() throws Exception {
    ControllerProcess a = start("--lease-namespace", "default", "--lease-duration", "3s");
    ControllerProcess b = start("--lease-namespace", "default", "--lease-duration", "3s");
    await().atMost(Duration.ofSeconds(15)).until(() -> a.isLeader() || b.isLeader());
    ControllerProcess leader = a.isLeader() ? a : b;
    ControllerProcess follower = leader == a ? b : a;
    assertThat(follower.isLeader()).isFalse();
    // a standby is ready (caches synced), so rolling updates and drains proceed
    assertThat(get(follower, "/readyz").statusCode()).isEqualTo(200);
    assertThat(get(follower, "/healthz").body()).isEqualTo("ok standby\n");
    assertThat(get(leader, "/healthz").body()).isEqualTo("ok leader\n");
    assertThat(get(follower, "/metrics").body()).contains("ferry_leader 0.0");
    assertThat(get(leader, "/metrics").body()).contains("ferry_leader 1.0");
    leader.close();
    await().atMost(Duration.ofSeconds(15)).until(follower::isLeader);
    assertThat(
            client
                .leases()
                .inNamespace("default")
                .withName("ferry-controller")
                .get()
                .getSpec()
                .getHolderIdentity())
        .isNotBlank();
  }

  @Test
  @DisplayName("an informer that stops makes /readyz fail and the process exit non-zero")
  void informerStopEndsProcess() throws Exception {
    ControllerProcess p = start("--no-leader-elect");
    await().atMost(Duration.ofSeconds(10)).until(() -> get(p, "/readyz").statusCode() == 200);
    p.controller().informers().get(0).stop();
    await().atMost(Duration.ofSeconds(10)).until(() -> !p.isReady());
    assertThat(p.awaitExit()).isEqualTo(1);
  }

  @Test
  @DisplayName("a busy metrics port names the port and the flags to change")
  void busyPort() throws Exception {
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () ->
                  start(
                      "--no-leader-elect", "--metrics-port", String.valueOf(taken.getLocalPort())))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("127.0.0.1:" + taken.getLocalPort())
          .hasMessageContaining("--metrics-port");
    }
  }
}
