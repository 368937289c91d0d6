package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.controller.ControllerProcess;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller with the local provider against a real kube-apiserver, authenticated as the Helm
 * chart's ServiceAccount with exactly the chart's RBAC, so a missing permission fails a test here.
 */
class ClusterIT {

  private static RealApiServer api;
  private static KubernetesClient admin;
  @TempDir static Path dir;
  private final List<ControllerProcess> running = new ArrayList<>();

  @BeforeAll
  static void apiServer() throws Exception {
    api = RealApiServer.get();
    admin = api.admin;
    if (admin.nodes().withName("node-1").get() == null) {
      for (int i = 1; i <= 2; i++) {
        admin
            .nodes()
            .resource(
                new NodeBuilder()
                    .withNewMetadata()
                    .withName("node-" + i)
                    .endMetadata()
                    .withNewSpec()
                    .withProviderID("test://node-" + i)
                    .endSpec()
                    .withNewStatus()
                    .addNewAddress()
                    .withType("InternalIP")
                    .withAddress("127.0.107." + i)
                    .endAddress()
                    .endStatus()
                    .build())
            .create();
      }
    }
  }

  @AfterEach
  void stopControllers() {
    running.forEach(ControllerProcess::close);
  }

  static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100));
  }

  /** A controller with the local provider; leader election only when "--leader-elect" is given. */
  ControllerProcess start(String... extra) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--provider",
                "local",
                "--provider-setting",
                "local.address-pool=127.0.106.0/24",
                "--cluster-name",
                "cluster-it"));
    args.addAll(List.of(extra));
    ControllerProcess p = ClusterControllers.start(api, dir, args);
    running.add(p);
    return p;
  }

  static ServiceBuilder lb(String name, int port) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("default")
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
        .addToSelector("app", name)
        .addNewPort()
        .withName("tcp")
        .withPort(port)
        .withProtocol("TCP")
        .endPort()
        .endSpec();
  }

  static Service get(String name) {
    return admin.services().inNamespace("default").withName(name).get();
  }

  static String ip(Service s) {
    if (s == null
        || s.getStatus() == null
        || s.getStatus().getLoadBalancer() == null
        || s.getStatus().getLoadBalancer().getIngress() == null
        || s.getStatus().getLoadBalancer().getIngress().isEmpty()) {
      return null;
    }
    return s.getStatus().getLoadBalancer().getIngress().get(0).getIp();
  }

  @Test
  @DisplayName(
      "NodePorts the API server allocated are kept; the address goes through the status subresource")
  void apiAllocatedPortsKept() throws Exception {
    start();
    Service created =
        admin.services().inNamespace("default").resource(lb("kept", 18101).build()).create();
    Integer allocated = created.getSpec().getPorts().get(0).getNodePort();
    assertThat(allocated).isNotNull();
    eventually().until(() -> ip(get("kept")) != null);
    Service s = get("kept");
    assertThat(s.getSpec().getPorts().get(0).getNodePort()).isEqualTo(allocated);
    assertThat(s.getMetadata().getFinalizers()).contains("ferry.dev/load-balancer-cleanup");
    assertThat(s.getStatus().getLoadBalancer().getIngress().get(0).getIpMode()).isEqualTo("Proxy");
    admin.services().inNamespace("default").withName("kept").delete();
    eventually().until(() -> get("kept") == null);
  }

  @Test
  @DisplayName(
      "allocateLoadBalancerNodePorts false: Ferry allocates the NodePort and the API server accepts it")
  void ferryAllocates() throws Exception {
    start();
    Service created =
        admin
            .services()
            .inNamespace("default")
            .resource(
                lb("noalloc", 18102)
                    .editSpec()
                    .withAllocateLoadBalancerNodePorts(false)
                    .endSpec()
                    .build())
            .create();
    assertThat(created.getSpec().getPorts().get(0).getNodePort()).isNull();
    eventually().until(() -> ip(get("noalloc")) != null);
    assertThat(get("noalloc").getSpec().getPorts().get(0).getNodePort()).isBetween(30000, 32767);
    admin.services().inNamespace("default").withName("noalloc").delete();
    eventually().until(() -> get("noalloc") == null);
  }

  @Test
  @DisplayName("the finalizer holds a deleted Service until Ferry has cleaned up")
  void finalizerHoldsDeletion() throws Exception {
    ControllerProcess first = start();
    admin.services().inNamespace("default").resource(lb("held", 18103).build()).create();
    eventually().until(() -> ip(get("held")) != null);
    first.close();
    admin.services().inNamespace("default").withName("held").delete();
    Service deleting = get("held");
    assertThat(deleting).isNotNull();
    assertThat(deleting.getMetadata().getDeletionTimestamp()).isNotNull();
    assertThat(deleting.getMetadata().getFinalizers()).contains("ferry.dev/load-balancer-cleanup");
    start();
    eventually().until(() -> get("held") == null);
  }

  @Test
  @DisplayName(
      "a type change to ClusterIP deletes the load balancer, clears the status and drops the finalizer")
  void typeChange() throws Exception {
    start();
    admin.services().inNamespace("default").resource(lb("typed", 18104).build()).create();
    eventually().until(() -> ip(get("typed")) != null);
    admin
        .services()
        .inNamespace("default")
        .withName("typed")
        .edit(
            s ->
                new ServiceBuilder(s)
                    .editSpec()
                    .withType("ClusterIP")
                    .withAllocateLoadBalancerNodePorts(null)
                    .withExternalTrafficPolicy(null)
                    .endSpec()
                    .build());
    eventually()
        .until(
            () ->
                get("typed").getMetadata().getFinalizers() == null
                    || get("typed").getMetadata().getFinalizers().isEmpty());
    assertThat(ip(get("typed"))).isNull();
    admin.services().inNamespace("default").withName("typed").delete();
  }

  @Test
  @DisplayName(
      "two controllers: only the leader reconciles; stopped, the other takes over within the lease, with no second load balancer")
  void leaderFailover() throws Exception {
    ControllerProcess a = start("--leader-elect");
    ControllerProcess b = start("--leader-elect");
    eventually().until(() -> a.isLeader() || b.isLeader());
    ControllerProcess leader = a.isLeader() ? a : b;
    ControllerProcess follower = leader == a ? b : a;
    assertThat(follower.isLeader()).isFalse();
    assertThat(follower.isReady()).isTrue();

    admin.services().inNamespace("default").resource(lb("ha", 18105).build()).create();
    eventually().until(() -> ip(get("ha")) != null);
    String before = ip(get("ha"));

    long stopped = System.nanoTime();
    leader.close();
    eventually().until(follower::isLeader);
    double takeover = (System.nanoTime() - stopped) / 1e9;
    System.out.printf(
        "leader failover: follower took over %.2f s after the leader stopped (lease 4 s)%n",
        takeover);
    assertThat(takeover).isLessThan(4.0 + 2.0);

    // the new leader ensures the existing Service again: same address, no second load balancer
    admin.services().inNamespace("default").resource(lb("ha-after", 18106).build()).create();
    eventually().until(() -> ip(get("ha-after")) != null);
    assertThat(ip(get("ha"))).isEqualTo(before);
    admin.services().inNamespace("default").withName("ha").delete();
    admin.services().inNamespace("default").withName("ha-after").delete();
    eventually().until(() -> get("ha") == null && get("ha-after") == null);
  }

  @Test
  @DisplayName(
      "a leader cut off from the API server (no lease release) is replaced once its lease expires;"
          + " it stops reconciling and does not exit")
  void leaderCutOff() throws Exception {
    java.net.URI url = java.net.URI.create(api.adminConfig.getMasterUrl());
    List<TcpRelay> relays = new ArrayList<>();
    List<ControllerProcess> ps = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      TcpRelay relay = new TcpRelay(url.getHost(), url.getPort());
      relays.add(relay);
      ControllerProcess p =
          ClusterControllers.start(
              api.controllerKubeconfig(dir, "https://127.0.0.1:" + relay.port() + "/"),
              List.of(
                  "--provider",
                  "local",
                  "--provider-setting",
                  "local.address-pool=127.0.106.0/24",
                  "--cluster-name",
                  "cluster-it",
                  "--leader-elect"));
      running.add(p);
      ps.add(p);
    }
    try {
      eventually().until(() -> ps.get(0).isLeader() || ps.get(1).isLeader());
      int leader = ps.get(0).isLeader() ? 0 : 1;
      ControllerProcess follower = ps.get(1 - leader);

      long cut = System.nanoTime();
      relays.get(leader).cut(); // renewals fail from now on, and so does the release
      eventually().until(follower::isLeader);
      double takeover = (System.nanoTime() - cut) / 1e9;
      System.out.printf(
          "leader cut off: follower took over %.2f s later (lease 4 s, renew deadline 2.7 s)%n",
          takeover);
      assertThat(takeover).isGreaterThan(1.0).isLessThan(4.0 + 4.0);
      eventually().until(() -> !ps.get(leader).isLeader());
      assertThat(ps.get(leader).awaitExitFor(Duration.ZERO)).isEmpty();
      admin.services().inNamespace("default").resource(lb("after-cut", 18107).build()).create();
      eventually().until(() -> ip(get("after-cut")) != null);
      admin.services().inNamespace("default").withName("after-cut").delete();
      eventually().until(() -> get("after-cut") == null);
    } finally {
      relays.forEach(TcpRelay::close);
    }
  }

  static ServiceBuilder toClusterIp(Service s) {
    return new ServiceBuilder(s)
        .editSpec()
        .withType("ClusterIP")
        .withAllocateLoadBalancerNodePorts(null)
        .withExternalTrafficPolicy(null)
        .endSpec();
  }

  private static List<Event> warnings(String name) {
    return admin.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .filter(e -> "Warning".equals(e.getType()))
        .toList();
  }

  @Test
  @DisplayName(
      "a port taken on the load balancer's address: the real API server takes its BindFailed"
          + " port error and the PortError condition, a BindFailed Warning says why; served once"
          + " freed, without a touch")
  void takenPortIsAPortError() throws Exception {
    start();
    String name = "squatted";
    String address = "127.0.106.201";
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress(InetAddress.getByName(address), 18301));
      admin
          .services()
          .inNamespace("default")
          .resource(
              lb(name, 18301)
                  .editSpec()
                  .withLoadBalancerIP(address)
                  .addNewPort()
                  .withName("free")
                  .withPort(18302)
                  .withProtocol("TCP")
                  .endPort()
                  .endSpec()
                  .build())
          .create();
      eventually().until(() -> "PortError".equals(readyReason(get(name))));
      Service s = get(name);
      assertThat(ip(s)).isEqualTo(address);
      assertThat(s.getStatus().getLoadBalancer().getIngress().get(0).getPorts())
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.getPort()).isEqualTo(18301);
                assertThat(p.getError()).isEqualTo("ferry.dev/BindFailed");
              });
      eventually()
          .until(
              () ->
                  warnings(name).stream()
                      .anyMatch(
                          e ->
                              "BindFailed".equals(e.getReason())
                                  && e.getMessage().contains(address + ":18301/TCP")));
      try (Socket client = new Socket(address, 18302)) {
        assertThat(client.isConnected()).as("the other port is served").isTrue();
      }
    }
    // the squatter is gone: the next retry on the Service's backoff (5 s first) binds the port
    eventually().until(() -> "Provisioned".equals(readyReason(get(name))));
    assertThat(get(name).getStatus().getLoadBalancer().getIngress().get(0).getPorts())
        .isNullOrEmpty();
    admin.services().inNamespace("default").withName(name).delete();
    eventually().until(() -> get(name) == null);
  }

  private static String readyReason(Service s) {
    if (s == null || s.getStatus() == null || s.getStatus().getConditions() == null) {
      return null;
    }
    return s.getStatus().getConditions().stream()
        .filter(c -> "ferry.dev/LoadBalancerReady".equals(c.getType()))
        .map(Condition::getReason)
        .findFirst()
        .orElse(null);
  }

  @Test
  @DisplayName(
      "a NodePort one Service let go (type change to ClusterIP) is taken by another with no false"
          + " Warning, 3 times in a row")
  void freedPortTakenOver() throws Exception {
    start();
    for (int trial = 0; trial < 3; trial++) {
      String x = "np-x-" + trial;
      String y = "np-y-" + trial;
      admin.services().inNamespace("default").resource(lb(x, 18200 + trial).build()).create();
      eventually().until(() -> ip(get(x)) != null);
      int port = get(x).getSpec().getPorts().get(0).getNodePort();
      admin.services().inNamespace("default").withName(x).edit(s -> toClusterIp(s).build());
      Service taker =
          admin
              .services()
              .inNamespace("default")
              .resource(
                  lb(y, 18210 + trial)
                      .editSpec()
                      .editFirstPort()
                      .withNodePort(port)
                      .endPort()
                      .endSpec()
                      .build())
              .create(); // the real API server gives it the port X let go
      assertThat(taker.getSpec().getPorts().get(0).getNodePort()).isEqualTo(port);
      eventually().until(() -> ip(get(y)) != null);
      assertThat(warnings(y)).isEmpty();
      admin.services().inNamespace("default").withName(x).delete();
      admin.services().inNamespace("default").withName(y).delete();
      eventually().until(() -> get(x) == null && get(y) == null);
    }
  }

  @Test
  @DisplayName(
      "a status the API server refuses becomes a Warning with its message and a metric, then backs"
          + " off")
  void refusedStatus() throws Exception {
    ControllerProcess p =
        ClusterControllers.start(
            api, dir, List.of("--provider", "bad-status", "--cluster-name", "cluster-it"));
    running.add(p);
    admin.services().inNamespace("default").resource(lb("refused", 18300).build()).create();
    eventually().until(() -> !warnings("refused").isEmpty());
    Event warning = warnings("refused").get(0);
    assertThat(warning.getReason()).isEqualTo("SyncLoadBalancerFailed");
    assertThat(warning.getMessage())
        .contains("The API server refused the load balancer status", "not-an-ip");
    String metrics =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + p.metricsPort() + "/metrics"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics).contains("ferry_status_writes_rejected_total");
    // backed off: the first retry comes about 5 s later, not every 200 ms
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(4))
        .until(() -> warnings("refused").get(0).getCount() <= 2);
    admin.services().inNamespace("default").withName("refused").delete();
    eventually().until(() -> get("refused") == null);
  }
}
