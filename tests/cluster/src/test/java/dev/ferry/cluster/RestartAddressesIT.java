package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An address a Service's status shows is that Service's until it is released: a controller process
 * killed (SIGKILL) in the middle of a burst of creates and started again never gives it to another
 * Service, and no two Services ever show the same address. The controller runs as its own OS
 * process ({@code dev.ferry.cli.Main run}, as the image runs it) with the local provider, whose
 * load balancers and address pool live in that process and die with it: the new process must let
 * the Services that show an address take theirs back before it serves a Service that has none. The
 * new Services sort before the old ones, so the informer queues them first.
 */
class RestartAddressesIT {

  private static final String NS = "default";
  private static final int OLD = 20;
  private static final int NEW = 20;
  private static final int TRIALS = 3;

  private static RealApiServer api;
  private static KubernetesClient admin;
  @TempDir static Path dir;
  private final List<Process> running = new ArrayList<>();
  private final List<String> services = new ArrayList<>();

  @BeforeAll
  static void apiServer() throws Exception {
    api = RealApiServer.get();
    admin = api.admin;
  }

  @AfterEach
  void cleanUp() {
    services.forEach(n -> admin.services().inNamespace(NS).withName(n).delete());
    ClusterIT.eventually()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(() -> services.stream().allMatch(n -> get(n) == null));
    running.forEach(RestartAddressesIT::kill);
  }

  private static int started;

  /** The controller as an OS process of its own, ready when this returns. */
  private Process controller() throws Exception {
    Path log = dir.resolve("controller-" + started++ + ".log");
    int port;
    try (java.net.ServerSocket free =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.ferry.cli.Main",
                "run",
                "--kubeconfig",
                api.controllerKubeconfig(dir).toString(),
                "--no-leader-elect",
                "--metrics-port",
                String.valueOf(port),
                "--metrics-address",
                "127.0.0.1",
                "--provider",
                "local",
                "--cluster-name",
                "restart",
                "--provider-setting",
                "local.address-pool=127.0.140.0/26",
                "--provider-setting",
                "local.ipv6-address-pool=none")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    running.add(p);
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpRequest readyz =
        java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/readyz"))
            .build();
    ClusterIT.eventually()
        .atMost(java.time.Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(
            () ->
                !p.isAlive()
                    || http.send(readyz, java.net.http.HttpResponse.BodyHandlers.discarding())
                            .statusCode()
                        == 200);
    assertThat(p.isAlive()).as(java.nio.file.Files.readString(log)).isTrue();
    return p;
  }

  /** SIGKILL, as a node's OOM killer or a lost node would. */
  private static void kill(Process p) {
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Service get(String name) {
    return admin.services().inNamespace(NS).withName(name).get();
  }

  private void create(String name) {
    admin
        .services()
        .inNamespace(NS)
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(NS)
                .endMetadata()
                .withNewSpec()
                .withType("LoadBalancer")
                .addToSelector("app", name)
                .addNewPort()
                .withName("p")
                .withPort(18700)
                .withProtocol("TCP")
                .endPort()
                .endSpec()
                .build())
        .create();
    services.add(name);
  }

  /** The address each of {@code names} shows now (absent while it has none). */
  private static Map<String, String> addresses(List<String> names) {
    Map<String, String> out = new TreeMap<>();
    for (Service s : admin.services().inNamespace(NS).list().getItems()) {
      String name = s.getMetadata().getName();
      List<LoadBalancerIngress> ingress =
          s.getStatus() == null || s.getStatus().getLoadBalancer() == null
              ? null
              : s.getStatus().getLoadBalancer().getIngress();
      if (names.contains(name) && ingress != null && !ingress.isEmpty()) {
        out.put(name, ingress.get(0).getIp());
      }
    }
    return out;
  }

  /** Names shown by more than one Service at once, with the Services. */
  private static Map<String, List<String>> shared(Map<String, String> shown) {
    Map<String, List<String>> byIp = new HashMap<>();
    shown.forEach((name, ip) -> byIp.computeIfAbsent(ip, k -> new ArrayList<>()).add(name));
    byIp.values().removeIf(l -> l.size() < 2);
    return byIp;
  }

  @Test
  @DisplayName(
      "a controller stopped mid-burst and started again: every Service keeps the address its"
          + " status showed, and no two Services show one address at any moment ("
          + TRIALS
          + " trials)")
  void addressesStayPut() throws Exception {
    for (int trial = 0; trial < TRIALS; trial++) {
      List<String> old = new ArrayList<>();
      List<String> fresh = new ArrayList<>();
      for (int i = 0; i < OLD; i++) {
        old.add(String.format("zz-%d-old-%02d", trial, i));
      }
      for (int i = 0; i < NEW; i++) {
        fresh.add(String.format("aa-%d-new-%02d", trial, i)); // queued before the old ones
      }
      List<String> all = new ArrayList<>(old);
      all.addAll(fresh);

      Process first = controller();
      old.forEach(this::create);
      ClusterIT.eventually()
          .atMost(java.time.Duration.ofSeconds(60))
          .until(() -> addresses(old).size() == OLD);
      // the burst: half of the new Services, then the controller stops in the middle of it
      for (int i = 0; i < NEW / 2; i++) {
        create(fresh.get(i));
      }
      kill(first);
      running.remove(first);
      // the rest of the burst lands while no controller runs (a rollout, a node lost)
      for (int i = NEW / 2; i < NEW; i++) {
        create(fresh.get(i));
      }
      Map<String, String> before = addresses(all);
      assertThat(before).containsAllEntriesOf(addresses(old));

      controller();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      Map<String, String> now = addresses(all);
      while (now.size() < all.size() && System.nanoTime() < deadline) {
        assertThat(shared(now)).as("trial %d: one address on two Services", trial).isEmpty();
        for (Map.Entry<String, String> e : before.entrySet()) {
          if (now.containsKey(e.getKey())) {
            assertThat(now.get(e.getKey()))
                .as("trial %d: %s moved", trial, e.getKey())
                .isEqualTo(e.getValue());
          }
        }
        Thread.sleep(20);
        now = addresses(all);
      }
      assertThat(now).as("trial %d: every Service has an address", trial).hasSize(all.size());
      assertThat(now).containsAllEntriesOf(before);
      assertThat(shared(now)).isEmpty();

      all.forEach(n -> admin.services().inNamespace(NS).withName(n).delete());
      ClusterIT.eventually()
          .atMost(java.time.Duration.ofSeconds(60))
          .until(() -> all.stream().allMatch(n -> get(n) == null));
      services.removeAll(all);
      running.forEach(RestartAddressesIT::kill);
      running.clear();
    }
  }
}
