package dev.ferry.examples.haproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.IpFamilyPolicy;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.SessionAffinity;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Real connections through the HAProxy the provider runs, to fake nodes on 127.0.122.0/24. */
class HaproxyTrafficTest {

  private static final int NODE_PORT = 30180;
  private static final int HEALTH_PORT = 31180;
  private static final java.util.concurrent.atomic.AtomicInteger TEST =
      new java.util.concurrent.atomic.AtomicInteger();
  private static HaproxyFixture fixture;

  private HaproxyProvider provider;
  private FakeNode one;
  private FakeNode two;
  private LoadBalancerRef ref;

  @BeforeAll
  static void startScratch() throws IOException {
    HaproxyFixture.binary();
    fixture = new HaproxyFixture("127.0.123.0/24", "fdfe:44:123::/120");
  }

  @AfterAll
  static void stopHaproxy() throws Exception {
    if (fixture != null) {
      fixture.stop();
    }
  }

  @BeforeEach
  void nodes() throws IOException {
    provider = fixture.provider("traffic");
    // fresh addresses for every test: a closed listening socket can take a moment to free its port
    int n = TEST.incrementAndGet();
    one = new FakeNode("node-1", "127.0.122." + (2 * n - 1), NODE_PORT).withHealth(HEALTH_PORT);
    two = new FakeNode("node-2", "127.0.122." + 2 * n, NODE_PORT).withHealth(HEALTH_PORT);
    String uid = UUID.randomUUID().toString();
    ref = new LoadBalancerRef("traffic", "default", "web", uid);
  }

  @AfterEach
  void cleanUp() throws Exception {
    try {
      provider.ensureDeleted(ref);
    } finally {
      for (FakeNode node : new FakeNode[] {one, two}) {
        if (node != null) {
          node.close();
        }
      }
    }
  }

  private static Backend backend(FakeNode n) {
    return new Backend(n.name, "", n.address, "");
  }

  private LoadBalancerPlan plan(HealthCheck check, List<FakeNode> nodes) {
    return LoadBalancerPlan.builder(
            ref, List.of(new Listener("web", Protocol.TCP, 8080, NODE_PORT)), check)
        .backends(nodes.stream().map(HaproxyTrafficTest::backend).toList())
        .build();
  }

  private static HealthCheck tcp() {
    return new HealthCheck(
        HealthCheck.Type.TCP,
        HealthCheck.TRAFFIC_PORT,
        "",
        Duration.ofMillis(200),
        Duration.ofMillis(100),
        1,
        1);
  }

  private String address() throws Exception {
    return provider.find(ref).orElseThrow().ingress().get(0).ip().orElseThrow();
  }

  /** Who answers a new connection to the load balancer. */
  private String ask() throws Exception {
    return ask(address());
  }

  private static String ask(String address) throws Exception {
    try (Conn c = new Conn(address)) {
      return c.ask();
    }
  }

  private static final class Conn implements AutoCloseable {
    final Socket socket = new Socket();
    final BufferedReader in;

    Conn(String address) throws IOException {
      socket.connect(new InetSocketAddress(address, 8080), 2000);
      socket.setSoTimeout(3000);
      in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    String ask() throws IOException {
      socket.getOutputStream().write("who\n".getBytes(StandardCharsets.UTF_8));
      return in.readLine();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static void eventually(BooleanSupplier condition, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 15s: " + what);
      }
      Thread.sleep(50);
    }
  }

  private boolean allUp(int n) {
    try {
      var h = provider.find(ref).orElseThrow().backendHealth().orElseThrow();
      return h.healthy() == n && h.total() == n;
    } catch (ProviderException e) {
      return false;
    }
  }

  @Test
  @DisplayName("round robin over both nodes")
  void roundRobin() throws Exception {
    provider.ensure(plan(tcp(), List.of(one, two)));
    eventually(() -> allUp(2), "both nodes pass their checks");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      seen.add(ask());
    }
    assertThat(seen).containsExactlyInAnyOrder("node-1", "node-2");
  }

  @Test
  @DisplayName(
      "a node removed at run time: no reload, its established connection keeps working, new"
          + " connections go to the other")
  void backendChangeKeepsConnections() throws Exception {
    provider.ensure(plan(tcp(), List.of(one, two)));
    eventually(() -> allUp(2), "both nodes pass their checks");
    long worker = provider.haproxy().workerPid();
    try (Conn established = new Conn(address())) {
      String pinned = established.ask();
      FakeNode stays = pinned.equals("node-1") ? two : one;
      provider.updateBackends(ref, List.of(backend(stays)));
      assertThat(provider.haproxy().workerPid())
          .as("changed through the runtime API")
          .isEqualTo(worker);
      assertThat(established.ask()).as("the established connection").isEqualTo(pinned);
      for (int i = 0; i < 4; i++) {
        assertThat(ask()).isEqualTo(stays.name);
      }
    }
  }

  @Test
  @DisplayName(
      "HTTP /healthz on the health-check port (externalTrafficPolicy: Local) steers traffic")
  void httpHealthCheck() throws Exception {
    two.healthy(false);
    HealthCheck http =
        new HealthCheck(
            HealthCheck.Type.HTTP,
            HEALTH_PORT,
            "/healthz",
            Duration.ofMillis(200),
            Duration.ofMillis(100),
            1,
            1);
    provider.ensure(plan(http, List.of(one, two)));
    eventually(
        () -> {
          try {
            var h = provider.find(ref).orElseThrow().backendHealth().orElseThrow();
            return h.healthy() == 1 && h.total() == 2;
          } catch (ProviderException e) {
            return false;
          }
        },
        "node-2 fails its check");
    for (int i = 0; i < 4; i++) {
      assertThat(ask()).isEqualTo("node-1");
    }
    two.healthy(true);
    eventually(() -> allUp(2), "node-2 recovers");
  }

  @Test
  @DisplayName("source ranges: a client outside them is refused")
  void sourceRanges() throws Exception {
    provider.ensure(
        plan(tcp(), List.of(one)).toBuilder().sourceRanges(List.of("10.0.0.0/8")).build());
    assertThatThrownBy(this::ask).isInstanceOfAny(IOException.class, NullPointerException.class);
    provider.ensure(
        plan(tcp(), List.of(one)).toBuilder().sourceRanges(List.of("127.0.0.0/8")).build());
    eventually(() -> allUp(1), "node-1 passes its check");
    assertThat(ask()).isEqualTo("node-1");
  }

  @Test
  @DisplayName("ClientIP affinity: one client keeps its node")
  void clientIpAffinity() throws Exception {
    provider.ensure(
        plan(tcp(), List.of(one, two)).toBuilder()
            .affinity(SessionAffinity.clientIp(Duration.ofHours(3)))
            .build());
    eventually(() -> allUp(2), "both nodes pass their checks");
    String first = ask();
    for (int i = 0; i < 5; i++) {
      assertThat(ask()).isEqualTo(first);
    }
  }

  @Test
  @DisplayName("a UDP port is refused before anything is made")
  void udpRefused() throws Exception {
    LoadBalancerPlan udp =
        LoadBalancerPlan.builder(ref, List.of(new Listener("dns", Protocol.UDP, 53, 30053)), tcp())
            .build();
    assertThatThrownBy(() -> provider.ensure(udp))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e -> assertThat(e.violations().get(0).field()).isEqualTo("spec.ports[0].protocol"));
    assertThat(provider.find(ref)).isEmpty();
  }

  @Test
  @DisplayName(
      "dual-stack: real connections over IPv6 and IPv4 to the nodes (over IPv4), a node leaving"
          + " leaves both families' traffic on the other; IPv4-only ranges close IPv6")
  void dualStack() throws Exception {
    Assumptions.assumeTrue(
        fixture.dualStack(), "SKIPPED: this process may not put IPv6 addresses on lo (stderr)");
    LoadBalancerPlan both =
        plan(tcp(), List.of(one, two)).toBuilder()
            .ipFamilies(List.of(IpFamily.IPv6, IpFamily.IPv4))
            .ipFamilyPolicy(IpFamilyPolicy.RequireDualStack)
            .sourceRanges(List.of("0.0.0.0/0", "::/0"))
            .build();
    List<String> ips =
        provider.ensure(both).ingress().stream().map(i -> i.ip().orElseThrow()).toList();
    assertThat(ips).hasSize(2);
    assertThat(ips.get(0)).startsWith("fdfe:44:123::");
    assertThat(IpFamily.of(ips.get(1))).isEqualTo(IpFamily.IPv4);
    eventually(() -> allUp(2), "both nodes pass their checks");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      seen.add(ask(ips.get(0)));
    }
    assertThat(seen).as("over IPv6").containsExactlyInAnyOrder("node-1", "node-2");
    provider.updateBackends(ref, List.of(backend(one)));
    for (String ip : ips) {
      for (int i = 0; i < 3; i++) {
        assertThat(ask(ip)).as("after node-2 left, at " + ip).isEqualTo("node-1");
      }
    }
    provider.ensure(both.toBuilder().backends(List.of(backend(one))).sourceRanges(List.of("0.0.0.0/0")).build());
    assertThat(ask(ips.get(1))).isEqualTo("node-1");
    assertThatThrownBy(() -> ask(ips.get(0)))
        .as("IPv6 has no range of its own: closed")
        .isInstanceOfAny(IOException.class, NullPointerException.class);
  }
}
