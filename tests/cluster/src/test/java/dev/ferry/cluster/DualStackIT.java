package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.controller.ControllerProcess;
import dev.ferry.provider.local.LoopbackAddresses;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dual-stack Services on the real kube-apiserver (Service CIDRs of both families, {@link
 * RealApiServer#SERVICE_CIDRS}), which sets {@code spec.ipFamilies} from {@code
 * spec.ipFamilyPolicy} itself, with dual-stack Nodes: the local provider serving both families
 * (real traffic over IPv6 to "nodes" on unique-local addresses this test adds to the loopback), and
 * configured for IPv4 only. The nodes exist only while this class runs.
 */
class DualStackIT {

  private static final String V6_NODES = "fdfe:44:108::";
  private static RealApiServer api;
  private static KubernetesClient admin;
  @TempDir static Path dir;
  private static final List<AutoCloseable> nodeServers = new ArrayList<>();
  private static final List<InetAddress> added = new ArrayList<>();
  private final List<ControllerProcess> running = new ArrayList<>();
  private final List<String> services = new ArrayList<>();

  @BeforeAll
  static void nodes() throws Exception {
    Optional<String> off = LoopbackAddresses.unavailable(InetAddress.getByName(V6_NODES + "ffff"));
    Assumptions.assumeTrue(
        off.isEmpty(), () -> "IPv6 cannot be made local on the loopback here: " + off.get());
    api = RealApiServer.get();
    admin = api.admin;
    for (int i = 1; i <= 3; i++) {
      NodeBuilder n =
          new NodeBuilder()
              .withNewMetadata()
              .withName("ds-" + i)
              .addToLabels("ferry.dev/test", "dual-stack")
              .endMetadata()
              .withNewSpec()
              .withProviderID("test://ds-" + i)
              .endSpec()
              .withNewStatus()
              .addNewAddress()
              .withType("InternalIP")
              .withAddress("127.0.111." + i)
              .endAddress()
              .endStatus();
      nodeServers.add(FakeNodes.kubeProxyHealth("127.0.111." + i));
      if (i < 3) { // ds-3 has no IPv6 address
        InetAddress v6 = InetAddress.getByName(V6_NODES + i);
        LoopbackAddresses.add(v6);
        added.add(v6);
        n.editStatus()
            .addNewAddress()
            .withType("InternalIP")
            .withAddress(V6_NODES + i)
            .endAddress()
            .endStatus();
        nodeServers.add(FakeNodes.kubeProxyHealth(V6_NODES + i));
      }
      admin.nodes().resource(n.build()).create();
    }
  }

  @AfterAll
  static void removeNodes() throws Exception {
    if (admin != null) {
      for (int i = 1; i <= 3; i++) {
        admin.nodes().withName("ds-" + i).delete();
      }
    }
    for (AutoCloseable c : nodeServers) {
      c.close();
    }
    added.forEach(LoopbackAddresses::remove);
  }

  @AfterEach
  void stop() {
    services.forEach(s -> admin.services().inNamespace("default").withName(s).delete());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                services.stream()
                    .allMatch(
                        s -> admin.services().inNamespace("default").withName(s).get() == null));
    running.forEach(ControllerProcess::close);
  }

  private static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100));
  }

  /** A controller with the local provider: dual-stack, or IPv4 only with {@code ipv6 = false}. */
  private void controller(boolean ipv6) throws Exception {
    running.add(
        ClusterControllers.start(
            api,
            dir,
            List.of(
                "--provider",
                "local",
                "--provider-setting",
                "local.address-pool=127.0.109.0/24",
                "--provider-setting",
                "local.ipv6-address-pool=" + (ipv6 ? "fdfe:44:109::/120" : "none"),
                "--cluster-name",
                "dual-stack-it")));
  }

  private Service create(String name, String policy, String... families) {
    services.add(name);
    ServiceBuilder b =
        new ServiceBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace("default")
            .addToAnnotations(
                "service.beta.kubernetes.io/aws-load-balancer-target-node-labels",
                "ferry.dev/test=dual-stack")
            .endMetadata()
            .withNewSpec()
            .withType("LoadBalancer")
            .withIpFamilyPolicy(policy)
            .addToSelector("app", name)
            .addNewPort()
            .withName("tcp")
            .withPort(80)
            .withProtocol("TCP")
            .endPort()
            .endSpec();
    if (families.length > 0) {
      b.editSpec().withIpFamilies(families).endSpec();
    }
    return admin.services().inNamespace("default").resource(b.build()).create();
  }

  private static Service get(String name) {
    return admin.services().inNamespace("default").withName(name).get();
  }

  private static List<String> ips(Service s) {
    if (s == null || s.getStatus() == null || s.getStatus().getLoadBalancer() == null) {
      return List.of();
    }
    List<LoadBalancerIngress> in = s.getStatus().getLoadBalancer().getIngress();
    return in == null ? List.of() : in.stream().map(LoadBalancerIngress::getIp).toList();
  }

  private static List<Event> events(String name, String type, String reason) {
    return admin.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .filter(e -> type.equals(e.getType()) && reason.equals(e.getReason()))
        .toList();
  }

  private static Set<String> answers(String lb, int tries) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < tries; i++) {
      seen.add(FakeNodes.ask(lb, 80));
    }
    return seen;
  }

  @Test
  @DisplayName(
      "RequireDualStack, IPv6 first: an address per family in that order, real traffic over IPv6 to"
          + " the nodes with an IPv6 InternalIP (an event names the one without), a node leaving")
  void requireDualStack() throws Exception {
    controller(true);
    Service s = create("ds-both", "RequireDualStack", "IPv6", "IPv4");
    assertThat(s.getSpec().getIpFamilies()).containsExactly("IPv6", "IPv4");
    assertThat(s.getSpec().getClusterIPs()).hasSize(2); // the API server's own dual-stack
    eventually().until(() -> ips(get("ds-both")).size() == 2);
    List<String> ips = ips(get("ds-both"));
    assertThat(ips.get(0)).startsWith("fdfe:44:109::");
    assertThat(ips.get(1)).startsWith("127.0.109.");
    int nodePort = get("ds-both").getSpec().getPorts().get(0).getNodePort();
    List<AutoCloseable> answering = new ArrayList<>();
    try {
      for (int i = 1; i <= 3; i++) {
        answering.add(FakeNodes.answering("127.0.111." + i, nodePort, "ds-" + i + "/v4"));
        if (i < 3) {
          answering.add(FakeNodes.answering(V6_NODES + i, nodePort, "ds-" + i + "/v6"));
        }
      }
      eventually().until(() -> answers(ips.get(0), 8).equals(Set.of("ds-1/v6", "ds-2/v6")));
      eventually()
          .until(() -> answers(ips.get(1), 9).equals(Set.of("ds-1/v4", "ds-2/v4", "ds-3/v4")));
      assertThat(events("ds-both", "Normal", "NodesWithoutFamilyAddress"))
          .singleElement()
          .satisfies(
              e ->
                  assertThat(e.getMessage())
                      .isEqualTo(
                          "ds-3 has no IPv6 InternalIP and is not a backend of the IPv6 frontend"));

      // ds-1 leaves the Service (its label goes): IPv6 traffic goes to ds-2 alone
      admin
          .nodes()
          .withName("ds-1")
          .edit(
              n -> {
                n.getMetadata().getLabels().remove("ferry.dev/test");
                return n;
              });
      eventually().until(() -> answers(ips.get(0), 4).equals(Set.of("ds-2/v6")));
      admin
          .nodes()
          .withName("ds-1")
          .edit(
              n -> {
                n.getMetadata().getLabels().put("ferry.dev/test", "dual-stack");
                return n;
              });
    } finally {
      for (AutoCloseable c : answering) {
        c.close();
      }
    }
  }

  @Test
  @DisplayName(
      "PreferDualStack on a provider configured for IPv4 only: an IPv4 address, and a Normal event"
          + " naming the family left out")
  void preferDualStackOnIpv4Only() throws Exception {
    controller(false);
    Service s = create("ds-prefer", "PreferDualStack");
    assertThat(s.getSpec().getIpFamilies()).containsExactly("IPv4", "IPv6");
    eventually().until(() -> !ips(get("ds-prefer")).isEmpty());
    assertThat(ips(get("ds-prefer"))).singleElement().asString().startsWith("127.0.109.");
    eventually().until(() -> !events("ds-prefer", "Normal", "IPFamilyNotServed").isEmpty());
    assertThat(events("ds-prefer", "Normal", "IPFamilyNotServed").get(0).getMessage())
        .contains("PreferDualStack", "IPv4 only", "no IPv6 one");
    assertThat(events("ds-prefer", "Warning", "SyncLoadBalancerFailed")).isEmpty();
  }

  @Test
  @DisplayName(
      "SingleStack IPv6 is served with an IPv6 address; RequireDualStack on IPv4 only is refused"
          + " with a Warning naming spec.ipFamilyPolicy, and no address")
  void singleStackIpv6AndRefusal() throws Exception {
    controller(true);
    create("ds-v6", "SingleStack", "IPv6");
    eventually().until(() -> !ips(get("ds-v6")).isEmpty());
    assertThat(ips(get("ds-v6"))).singleElement().asString().startsWith("fdfe:44:109::");
    running.forEach(ControllerProcess::close);
    running.clear();

    controller(false);
    create("ds-require", "RequireDualStack");
    eventually().until(() -> !events("ds-require", "Warning", "SyncLoadBalancerFailed").isEmpty());
    assertThat(events("ds-require", "Warning", "SyncLoadBalancerFailed").get(0).getMessage())
        .contains("spec.ipFamilyPolicy", "IPv4 only");
    assertThat(ips(get("ds-require"))).isEmpty();
  }
}
