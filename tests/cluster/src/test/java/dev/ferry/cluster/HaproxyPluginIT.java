package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.controller.ControllerProcess;
import dev.ferry.provider.local.LoopbackAddresses;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example third-party provider, {@code examples/haproxy-provider}, loaded by the controller
 * process from {@code --plugin-path} (it is not on the controller's class path) against the real
 * API server with the chart's RBAC, driving a real haproxy: a Service gets an address, traffic
 * through it reaches both nodes, a UDP Service gets the controller's Warning and nothing is made,
 * and deleting the Service removes its frontend.
 */
class HaproxyPluginIT {

  private static final String NS = "default";
  private static final Path PLUGINS =
      Path.of("../../examples/haproxy-provider/target/plugin").toAbsolutePath().normalize();
  private static final String[] NODES = {"127.0.126.1", "127.0.126.2"};

  private static RealApiServer api;
  private static KubernetesClient admin;
  @TempDir static Path dir;
  private final List<ControllerProcess> running = new ArrayList<>();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeAll
  static void apiServer() throws Exception {
    assertThat(PLUGINS.resolve("haproxy"))
        .as("the example plugin is built before this module (mvn package in its folder)")
        .isDirectory();
    if (!Files.isExecutable(Path.of("/usr/sbin/haproxy"))) {
      new ProcessBuilder("../../hack/haproxy.sh").inheritIO().start().waitFor();
    }
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/sbin/haproxy"))
            || Files.isExecutable(Path.of("/usr/bin/haproxy")),
        "SKIPPED: no haproxy on this machine; hack/haproxy.sh installs Debian's package");
    api = RealApiServer.get();
    admin = api.admin;
  }

  @AfterEach
  void cleanUp() throws Exception {
    running.forEach(ControllerProcess::close);
    for (AutoCloseable c : closing) {
      c.close();
    }
    for (int i = 0; i < NODES.length; i++) {
      admin.nodes().withName("hap-node-" + i).delete();
    }
  }

  @AfterAll
  static void stopHaproxy() throws Exception {
    // the provider leaves its haproxy running (a load balancer outlives the controller)
    for (String state : List.of("haproxy", "haproxy-dual")) {
      Path pid = dir.resolve(state + "/haproxy.pid");
      if (Files.exists(pid)) {
        ProcessHandle.of(Long.parseLong(Files.readString(pid).trim()))
            .ifPresent(
                p -> {
                  p.destroy();
                  p.onExit().orTimeout(10, TimeUnit.SECONDS).join();
                });
      }
    }
  }

  private static Service service(String name, String protocol, int port) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
        .addToSelector("app", name)
        .addNewPort()
        .withName("p")
        .withPort(port)
        .withProtocol(protocol)
        .endPort()
        .endSpec()
        .build();
  }

  private static String ip(String name) {
    Service s = admin.services().inNamespace(NS).withName(name).get();
    var ingress = s == null || s.getStatus() == null ? null : s.getStatus().getLoadBalancer();
    return ingress == null || ingress.getIngress() == null || ingress.getIngress().isEmpty()
        ? null
        : ingress.getIngress().get(0).getIp();
  }

  private static List<Event> events(String name) {
    return admin.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  private void nodes() throws Exception {
    for (int i = 0; i < NODES.length; i++) {
      admin
          .nodes()
          .resource(
              new NodeBuilder()
                  .withNewMetadata()
                  .withName("hap-node-" + i)
                  .endMetadata()
                  .withNewStatus()
                  .addNewAddress()
                  .withType("InternalIP")
                  .withAddress(NODES[i])
                  .endAddress()
                  .addNewCondition()
                  .withType("Ready")
                  .withStatus("True")
                  .endCondition()
                  .endStatus()
                  .build())
          .create();
      closing.add(FakeNodes.kubeProxyHealth(NODES[i]));
    }
  }

  private void controller(Path state, String... more) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--provider", "haproxy",
                "--plugin-path", PLUGINS.toString(),
                "--cluster-name", "bare-metal",
                "--provider-setting", "haproxy.dir=" + state,
                "--provider-setting", "haproxy.address-pool=127.0.127.0/24"));
    args.addAll(List.of(more));
    running.add(ClusterControllers.start(api, dir, args));
  }

  @Test
  @DisplayName(
      "loaded from --plugin-path: a Service gets an address and traffic reaches both nodes; UDP"
          + " gets a Warning and nothing is made; deletion removes the frontend")
  void pluginEndToEnd() throws Exception {
    nodes();
    Path state = dir.resolve("haproxy");
    controller(state);

    admin.services().inNamespace(NS).resource(service("hap-web", "TCP", 18480)).create();
    ClusterIT.eventually().until(() -> ip("hap-web") != null);
    String address = ip("hap-web");
    assertThat(address).startsWith("127.0.127.");
    int nodePort =
        admin
            .services()
            .inNamespace(NS)
            .withName("hap-web")
            .get()
            .getSpec()
            .getPorts()
            .get(0)
            .getNodePort();
    for (int i = 0; i < NODES.length; i++) {
      closing.add(FakeNodes.answering(NODES[i], nodePort, "node-" + i));
    }
    Set<String> answered = new HashSet<>();
    ClusterIT.eventually()
        .until(
            () -> {
              String who = FakeNodes.ask(address, 18480);
              if (who != null) {
                answered.add(who);
              }
              return answered.size() == 2;
            });
    assertThat(answered).containsExactlyInAnyOrder("node-0", "node-1");
    // the plugin's own figures come out through the controller's metrics hook, labelled
    String metrics =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(
                            "http://127.0.0.1:" + running.get(0).metricsPort() + "/metrics"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics)
        .contains(
            "ferry_provider_haproxy_changes_total{change=\"WriteConfig\",provider=\"haproxy\"}");
    assertThat(Files.list(state.resolve("services")).toList()).hasSize(1);

    // the plugin says it proxies no UDP: the controller warns, the provider is never asked
    admin.services().inNamespace(NS).resource(service("hap-dns", "UDP", 53)).create();
    ClusterIT.eventually()
        .until(
            () ->
                events("hap-dns").stream()
                    .anyMatch(
                        e ->
                            "Warning".equals(e.getType())
                                && e.getMessage().contains("spec.ports[0].protocol")
                                && e.getMessage().contains("UDP is not supported")));
    assertThat(ip("hap-dns")).isNull();
    assertThat(Files.list(state.resolve("services")).toList()).hasSize(1);

    admin.services().inNamespace(NS).withName("hap-dns").delete();
    admin.services().inNamespace(NS).withName("hap-web").delete();
    ClusterIT.eventually()
        .until(() -> admin.services().inNamespace(NS).withName("hap-web").get() == null);
    assertThat(Files.list(state.resolve("services")).toList()).isEmpty();
    assertThat(FakeNodes.ask(address, 18480)).as("the frontend is gone").isNull();

    // a burst: the workers' ensures make HAProxy reload back to back (each reload re-executes
    // its master, whose socket refuses the next reload until it is back)
    List<String> burst = List.of("hap-a", "hap-b", "hap-c");
    for (int i = 0; i < burst.size(); i++) {
      admin.services().inNamespace(NS).resource(service(burst.get(i), "TCP", 18481 + i)).create();
    }
    ClusterIT.eventually().until(() -> burst.stream().allMatch(name -> ip(name) != null));
    assertThat(Files.list(state.resolve("services")).toList()).hasSize(burst.size());
    for (String name : burst) {
      assertThat(events(name))
          .as("no ensure of %s failed on a reload", name)
          .noneMatch(e -> "Warning".equals(e.getType()) && e.getMessage().contains("haproxy"));
    }
    burst.forEach(name -> admin.services().inNamespace(NS).withName(name).delete());
    ClusterIT.eventually()
        .until(
            () ->
                burst.stream()
                    .allMatch(n -> admin.services().inNamespace(NS).withName(n).get() == null));
    assertThat(Files.list(state.resolve("services")).toList()).isEmpty();
  }

  @Test
  @DisplayName(
      "dual-stack through the plugin: with an IPv6 pool a PreferDualStack Service gets an IPv4 and"
          + " an IPv6 address in spec.ipFamilies order, and real connections over IPv6 reach both"
          + " nodes; deletion removes the frontend")
  void dualStack() throws Exception {
    List<InetAddress> v6 = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      v6.add(InetAddress.getByName(V6_POOL_BASE + i));
    }
    Optional<String> off = LoopbackAddresses.unavailable(v6.get(0));
    Assumptions.assumeTrue(off.isEmpty(), () -> "SKIPPED: no IPv6 on lo here: " + off.orElse(""));
    for (InetAddress a : v6) {
      LoopbackAddresses.add(a); // HAProxy binds only addresses the host has
      closing.add(() -> LoopbackAddresses.remove(a));
    }
    nodes();
    controller(
        dir.resolve("haproxy-dual"),
        "--provider-setting",
        "haproxy.ipv6-address-pool=" + V6_POOL_BASE + "/124");
    Service web = service("hap-dual", "TCP", 18490);
    web.getSpec().setIpFamilyPolicy("PreferDualStack");
    admin.services().inNamespace(NS).resource(web).create();
    ClusterIT.eventually().until(() -> ips("hap-dual").size() == 2);
    List<String> ips = ips("hap-dual");
    assertThat(ips.get(0)).startsWith("127.0.127.");
    assertThat(ips.get(1)).isEqualTo(V6_POOL_BASE + "1");
    int nodePort =
        admin
            .services()
            .inNamespace(NS)
            .withName("hap-dual")
            .get()
            .getSpec()
            .getPorts()
            .get(0)
            .getNodePort();
    for (int i = 0; i < NODES.length; i++) {
      closing.add(FakeNodes.answering(NODES[i], nodePort, "node-" + i));
    }
    Set<String> answered = new HashSet<>();
    ClusterIT.eventually()
        .until(
            () -> {
              String who = FakeNodes.ask(ips.get(1), 18490);
              if (who != null) {
                answered.add(who);
              }
              return answered.size() == 2;
            });
    assertThat(answered).containsExactlyInAnyOrder("node-0", "node-1");
    admin.services().inNamespace(NS).withName("hap-dual").delete();
    ClusterIT.eventually()
        .until(() -> admin.services().inNamespace(NS).withName("hap-dual").get() == null);
    assertThat(FakeNodes.ask(ips.get(1), 18490)).as("the IPv6 frontend is gone").isNull();
  }

  private static final String V6_POOL_BASE = "fdfe:44:127::";

  private static List<String> ips(String name) {
    Service s = admin.services().inNamespace(NS).withName(name).get();
    var lb = s == null || s.getStatus() == null ? null : s.getStatus().getLoadBalancer();
    return lb == null || lb.getIngress() == null
        ? List.of()
        : lb.getIngress().stream().map(i -> i.getIp()).toList();
  }
}
