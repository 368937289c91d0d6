package dev.ferry.provider.local;

import static dev.ferry.provider.local.FakeNode.firstLine;
import static dev.ferry.provider.local.FakeNode.udpRequest;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.IpFamilyPolicy;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderContext;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Real traffic over both families through a dual-stack local load balancer: fake nodes on IPv4
 * loopback addresses and on unique-local IPv6 addresses this test adds to the loopback (and
 * removes), clients bound to such addresses. Skipped, with the reason, where the process cannot add
 * an IPv6 address to the loopback (no iproute2, no CAP_NET_ADMIN).
 */
class LocalDualStackTrafficTest {

  private static final String V6 = "fdfe:44:106::"; // the nodes' and clients' block
  private static final int NODE_PORT = 31011;
  private static final int UDP_NODE_PORT = 31012;
  private static final Listener TCP = new Listener("tcp", Protocol.TCP, 8080, NODE_PORT);
  private static final Listener UDP = new Listener("udp", Protocol.UDP, 8053, UDP_NODE_PORT);

  private LoadBalancerProvider provider;
  private final List<FakeNode> nodes = new ArrayList<>();
  private final List<InetAddress> added = new ArrayList<>();
  private LoadBalancerRef ref;

  @BeforeEach
  void start() throws Exception {
    Optional<String> off = LoopbackAddresses.unavailable(InetAddress.getByName(V6 + "ffff"));
    Assumptions.assumeTrue(
        off.isEmpty(), () -> "IPv6 cannot be made local on the loopback here: " + off.get());
    provider =
        new LocalProviderFactory()
            .create(
                ProviderContext.builder("dual")
                    .settings(
                        Map.of(
                            LocalSettings.POOL,
                            "127.0.105.0/24",
                            LocalSettings.IPV6_POOL,
                            "fdfe:44:105::/120"))
                    .build());
    assertThat(provider.capabilities().dualStack()).isTrue();
    for (int i = 1; i <= 3; i++) {
      nodes.add(new FakeNode("node-" + i, "127.0.106." + i).tcp(NODE_PORT).udp(UDP_NODE_PORT));
      if (i < 3) { // node-3 has no IPv6 address
        nodes.add(new FakeNode("node-" + i, local(V6 + i)).tcp(NODE_PORT).udp(UDP_NODE_PORT));
      }
    }
  }

  private String local(String address) throws Exception {
    InetAddress a = InetAddress.getByName(address);
    LoopbackAddresses.add(a);
    added.add(a);
    return address;
  }

  @AfterEach
  void stop() throws Exception {
    if (provider != null && ref != null) {
      provider.ensureDeleted(ref);
    }
    for (FakeNode n : nodes) {
      n.close();
    }
    added.forEach(LoopbackAddresses::remove);
    if (provider != null) {
      provider.close();
    }
  }

  private static Backend node(int i) {
    List<String> addresses = i < 3 ? List.of("127.0.106." + i, V6 + i) : List.of("127.0.106." + i);
    return new Backend("node-" + i, "local://node-" + i, "127.0.106." + i, "z1", addresses);
  }

  private LoadBalancerPlan plan(List<Backend> backends, List<String> ranges) {
    ref = new LoadBalancerRef("dual", "t", "web", "3f1c0d5e-dual-stack-traffic");
    return LoadBalancerPlan.builder(
            ref,
            List.of(TCP, UDP),
            new HealthCheck(
                HealthCheck.Type.TCP,
                HealthCheck.TRAFFIC_PORT,
                "",
                Duration.ofMillis(200),
                Duration.ofMillis(100),
                2,
                1))
        .backends(backends)
        .ipFamilies(List.of(IpFamily.IPv6, IpFamily.IPv4))
        .ipFamilyPolicy(IpFamilyPolicy.RequireDualStack)
        .sourceRanges(ranges)
        .build();
  }

  private static Set<String> answers(String client, String ip, int tries) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < tries; i++) {
      seen.add(firstLine(client, ip, 8080));
    }
    return seen;
  }

  @Test
  @DisplayName(
      "TCP and UDP over IPv6 and IPv4: an address per family in spec.ipFamilies order, each"
          + " family's nodes behind its frontend, a node leaving, per-family source ranges")
  void bothFamilies() throws Exception {
    String client6 = local(V6 + "c1");
    String outsider6 = local("fdfe:44:107::c2");
    LoadBalancerStatus status =
        provider.ensure(plan(List.of(node(1), node(2), node(3)), List.of("0.0.0.0/0", V6 + "/64")));
    assertThat(status.ingress()).hasSize(2);
    String ip6 = status.ingress().get(0).ip().orElseThrow();
    String ip4 = status.ingress().get(1).ip().orElseThrow();
    assertThat(IpFamily.of(ip6)).isEqualTo(IpFamily.IPv6);
    assertThat(IpFamily.of(ip4)).isEqualTo(IpFamily.IPv4);
    assertThat(status.ingress())
        .allSatisfy(i -> assertThat(i.ipMode()).contains(LoadBalancerStatus.IpMode.Proxy));

    assertThat(answers("127.0.60.1", ip4, 9))
        .containsExactlyInAnyOrder("node-1", "node-2", "node-3");
    assertThat(answers(client6, ip6, 8)).containsExactlyInAnyOrder("node-1", "node-2");
    assertThat(udpRequest(client6, ip6, 8053, "ping")).matches("node-[12]:ping");
    // IPv6 ranges admit only their own: a client outside V6/64 is refused on the IPv6 frontend
    assertThat(firstLine(outsider6, ip6, 8080)).isNull();

    // node-1 leaves: the IPv6 frontend has node-2 alone
    provider.updateBackends(ref, List.of(node(2), node(3)));
    assertThat(answers(client6, ip6, 4)).containsExactly("node-2");
    assertThat(answers("127.0.60.1", ip4, 6)).containsExactlyInAnyOrder("node-2", "node-3");

    // IPv4 ranges only: the IPv6 frontend admits no one, never everyone
    provider.ensure(plan(List.of(node(2), node(3)), List.of("127.0.60.0/24")));
    assertThat(firstLine(client6, ip6, 8080)).isNull();
    assertThat(firstLine("127.0.60.1", ip4, 8080)).startsWith("node-");
  }
}
