package dev.ferry.provider.local;

import static dev.ferry.provider.local.FakeNode.firstLine;
import static dev.ferry.provider.local.FakeNode.udpRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.SessionAffinity;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Real traffic through the local provider's proxies to fake nodes on loopback addresses. */
class LocalProviderTrafficTest {

  private static final String CLIENT = "127.0.60.1";
  private static final int NODE_PORT = 31001;
  private static final int UDP_NODE_PORT = 31002;
  private static final int HEALTH_PORT = 31003;

  private LoadBalancerProvider provider;
  private final List<FakeNode> nodes = new ArrayList<>();
  private final List<LoadBalancerRef> made = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    provider =
        new LocalProviderFactory()
            .create(
                ProviderContext.builder("traffic")
                    .settings(Map.of(LocalSettings.POOL, "127.0.103.0/24"))
                    .build());
    for (int i = 1; i <= 3; i++) {
      nodes.add(
          new FakeNode("node-" + i, "127.0.104." + i)
              .tcp(NODE_PORT)
              .udp(UDP_NODE_PORT)
              .healthz(HEALTH_PORT));
    }
  }

  @AfterEach
  void stop() throws Exception {
    for (LoadBalancerRef ref : made) {
      provider.ensureDeleted(ref);
    }
    for (FakeNode n : nodes) {
      n.close();
    }
    provider.close();
  }

  private static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50));
  }

  private List<Backend> backends(int... indexes) {
    List<Backend> out = new ArrayList<>();
    for (int i : indexes) {
      FakeNode n = nodes.get(i - 1);
      out.add(new Backend(n.name, "local://" + n.name, n.address, "z1"));
    }
    return out;
  }

  private LoadBalancerPlan plan(
      List<Backend> backends,
      HealthCheck hc,
      List<String> ranges,
      SessionAffinity affinity,
      Listener... listeners) {
    String uid = UUID.randomUUID().toString();
    LoadBalancerRef ref = new LoadBalancerRef("traffic", "t", "svc-" + uid.substring(0, 6), uid);
    made.add(ref);
    return LoadBalancerPlan.builder(ref, List.of(listeners), hc)
        .backends(backends)
        .sourceRanges(ranges)
        .affinity(affinity)
        .build();
  }

  private static HealthCheck tcpCheck() {
    return new HealthCheck(
        HealthCheck.Type.TCP,
        HealthCheck.TRAFFIC_PORT,
        "",
        Duration.ofMillis(200),
        Duration.ofMillis(100),
        2,
        1);
  }

  private static final Listener TCP = new Listener("tcp", Protocol.TCP, 8080, NODE_PORT);
  private static final Listener UDP = new Listener("udp", Protocol.UDP, 8053, UDP_NODE_PORT);

  private static String ip(LoadBalancerStatus s) {
    assertThat(s.ingress().get(0).ipMode()).contains(LoadBalancerStatus.IpMode.Proxy);
    return s.ingress().get(0).ip().orElseThrow();
  }

  private static Set<String> answers(String client, String ip, int port, int tries) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < tries; i++) {
      seen.add(firstLine(client, ip, port));
    }
    return seen;
  }

  @Test
  @DisplayName("TCP connections are spread round-robin over all backends")
  void roundRobin() throws Exception {
    String ip =
        ip(
            provider.ensure(
                plan(
                    backends(1, 2, 3),
                    tcpCheck(),
                    List.of("0.0.0.0/0"),
                    SessionAffinity.NONE,
                    TCP)));
    assertThat(answers(CLIENT, ip, 8080, 9))
        .containsExactlyInAnyOrder("node-1", "node-2", "node-3");
  }

  @Test
  @DisplayName("TCP and UDP listeners on one load balancer both carry traffic")
  void mixedProtocols() throws Exception {
    String ip =
        ip(
            provider.ensure(
                plan(
                    backends(1, 2),
                    tcpCheck(),
                    List.of("0.0.0.0/0"),
                    SessionAffinity.NONE,
                    TCP,
                    UDP)));
    assertThat(firstLine(CLIENT, ip, 8080)).startsWith("node-");
    String reply = udpRequest(CLIENT, ip, 8053, "ping");
    assertThat(reply).matches("node-[12]:ping");
    // a second datagram from the same client stays on its flow
    assertThat(udpRequest(CLIENT, ip, 8053, "again")).isNotNull();
  }

  @Test
  @DisplayName("a client outside loadBalancerSourceRanges is refused; one inside is served")
  void sourceRanges() throws Exception {
    String ip =
        ip(
            provider.ensure(
                plan(
                    backends(1),
                    tcpCheck(),
                    List.of("127.0.60.0/24"),
                    SessionAffinity.NONE,
                    TCP,
                    UDP)));
    assertThat(firstLine("127.0.60.9", ip, 8080)).isEqualTo("node-1");
    assertThat(firstLine("127.0.61.9", ip, 8080)).isNull();
    assertThat(udpRequest("127.0.60.9", ip, 8053, "x")).isEqualTo("node-1:x");
    assertThat(udpRequest("127.0.61.9", ip, 8053, "x")).isNull();
  }

  @Test
  @DisplayName("ClientIP affinity keeps a client on one backend")
  void clientIpAffinity() throws Exception {
    String ip =
        ip(
            provider.ensure(
                plan(
                    backends(1, 2, 3),
                    tcpCheck(),
                    List.of("0.0.0.0/0"),
                    SessionAffinity.clientIp(Duration.ofMinutes(5)),
                    TCP)));
    assertThat(answers("127.0.60.1", ip, 8080, 8)).hasSize(1);
    assertThat(answers("127.0.60.2", ip, 8080, 8)).hasSize(1);
    Set<String> firstPicks = new HashSet<>();
    for (int c = 1; c <= 6; c++) {
      firstPicks.add(firstLine("127.0.62." + c, ip, 8080));
    }
    assertThat(firstPicks).hasSizeGreaterThan(1); // different clients still spread
  }

  @Test
  @DisplayName(
      "a backend failing its TCP check gets no new connections, and returns after the healthy threshold")
  void tcpFailoverAndRecovery() throws Exception {
    LoadBalancerPlan plan =
        plan(backends(1, 2), tcpCheck(), List.of("0.0.0.0/0"), SessionAffinity.NONE, TCP);
    String ip = ip(provider.ensure(plan));
    nodes.get(0).close(); // node-1 stops answering
    eventually()
        .until(
            () -> ((LocalProvider) provider).healthyBackends(plan.ref()).equals(List.of("node-2")));
    assertThat(answers(CLIENT, ip, 8080, 6)).containsExactly("node-2");
    nodes.set(0, new FakeNode("node-1", "127.0.104.1").tcp(NODE_PORT));
    eventually().until(() -> answers(CLIENT, ip, 8080, 4).contains("node-1"));
  }

  @Test
  @DisplayName("Local policy: the HTTP /healthz check on the healthCheckNodePort decides")
  void httpHealthCheck() throws Exception {
    HealthCheck hc =
        new HealthCheck(
            HealthCheck.Type.HTTP,
            HEALTH_PORT,
            "/healthz",
            Duration.ofMillis(200),
            Duration.ofMillis(150),
            1,
            1);
    LoadBalancerPlan plan =
        plan(backends(1, 2), hc, List.of("0.0.0.0/0"), SessionAffinity.NONE, TCP);
    String ip = ip(provider.ensure(plan));
    nodes.get(1).healthStatus(503); // no local endpoint on node-2
    eventually()
        .until(
            () -> ((LocalProvider) provider).healthyBackends(plan.ref()).equals(List.of("node-1")));
    assertThat(answers(CLIENT, ip, 8080, 6)).containsExactly("node-1");
    nodes.get(1).healthStatus(200);
    eventually().until(() -> ((LocalProvider) provider).healthyBackends(plan.ref()).size() == 2);
  }

  @Test
  @DisplayName(
      "Cluster policy, UDP only: the kube-proxy HTTP check takes a failing node out of UDP traffic")
  void udpFailsOverOnKubeProxyHealth() throws Exception {
    HealthCheck kubeProxy =
        new HealthCheck(
            HealthCheck.Type.HTTP,
            HEALTH_PORT, // kube-proxy's :10256 in a cluster; the fake nodes serve it here
            "/healthz",
            Duration.ofMillis(200),
            Duration.ofMillis(150),
            1,
            1);
    LoadBalancerPlan plan =
        plan(backends(1, 2), kubeProxy, List.of("0.0.0.0/0"), SessionAffinity.NONE, UDP);
    String ip = ip(provider.ensure(plan));
    nodes.get(1).healthStatus(503); // node-2's kube-proxy reports unhealthy (node going away)
    eventually()
        .until(
            () -> ((LocalProvider) provider).healthyBackends(plan.ref()).equals(List.of("node-1")));
    for (int i = 0; i < 6; i++) {
      assertThat(udpRequest(CLIENT, ip, 8053, "q" + i)).isEqualTo("node-1:q" + i);
    }
    nodes.get(1).healthStatus(200);
    eventually().until(() -> ((LocalProvider) provider).healthyBackends(plan.ref()).size() == 2);
  }

  @Test
  @DisplayName("a backend change keeps established connections to backends that stay")
  void backendChangeKeepsConnections() throws Exception {
    LoadBalancerPlan plan =
        plan(backends(1), tcpCheck(), List.of("0.0.0.0/0"), SessionAffinity.NONE, TCP);
    String ip = ip(provider.ensure(plan));
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(CLIENT, 0));
      s.connect(new InetSocketAddress(ip, 8080), 2000);
      s.setSoTimeout(3000);
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      assertThat(FakeNode.readLine(in)).isEqualTo("node-1");

      provider.updateBackends(plan.ref(), backends(1, 2, 3));
      provider.ensure(plan.withBackends(backends(1, 3)));

      out.write("still here\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      assertThat(FakeNode.readLine(in)).isEqualTo("still here");
    }
    assertThat(answers(CLIENT, ip, 8080, 6)).containsExactlyInAnyOrder("node-1", "node-3");
  }

  @Test
  @DisplayName("ensureDeleted closes the listeners and frees the address")
  void deleteClosesListeners() throws Exception {
    LoadBalancerPlan plan =
        plan(backends(1), tcpCheck(), List.of("0.0.0.0/0"), SessionAffinity.NONE, TCP);
    String ip = ip(provider.ensure(plan));
    assertThat(firstLine(CLIENT, ip, 8080)).isEqualTo("node-1");
    provider.ensureDeleted(plan.ref());
    assertThat(firstLine(CLIENT, ip, 8080)).isNull();
    assertThat(provider.find(plan.ref())).isEmpty();
  }

  @Test
  @DisplayName(
      "a requested IP inside the pool is honoured; outside it is an invalid plan naming spec.loadBalancerIP")
  void requestedIp() throws Exception {
    LoadBalancerPlan base =
        plan(backends(1), tcpCheck(), List.of("0.0.0.0/0"), SessionAffinity.NONE, TCP);
    LoadBalancerPlan inPool = base.toBuilder().requestedIp(Optional.of("127.0.103.77")).build();
    assertThat(ip(provider.ensure(inPool))).isEqualTo("127.0.103.77");
    LoadBalancerPlan outside =
        plan(backends(1), tcpCheck(), List.of("0.0.0.0/0"), SessionAffinity.NONE, TCP);
    LoadBalancerPlan bad = outside.toBuilder().requestedIp(Optional.of("10.9.9.9")).build();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> provider.ensure(bad))
        .isInstanceOfSatisfying(
            dev.ferry.spi.ProviderException.InvalidPlan.class,
            e -> assertThat(e.violations().get(0).field()).isEqualTo("spec.loadBalancerIP"));
    assertThat(provider.find(bad.ref())).isEmpty();
  }
}
