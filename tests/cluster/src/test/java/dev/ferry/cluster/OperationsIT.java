package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.controller.ControllerProcess;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The moments operators judge a controller by, against the real API server with the chart's RBAC:
 * two deployments side by side, a rolling replacement, {@code kubectl wait} on the condition, and
 * an API-server outage longer than the lease.
 */
class OperationsIT {

  private static final String NS = "default";
  private static RealApiServer api;
  private static KubernetesClient admin;
  @TempDir static Path dir;
  private final List<ControllerProcess> running = new ArrayList<>();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeAll
  static void apiServer() throws Exception {
    api = RealApiServer.get();
    admin = api.admin;
    if (admin.nodes().withName("ops-node").get() == null) {
      admin
          .nodes()
          .resource(
              new NodeBuilder()
                  .withNewMetadata()
                  .withName("ops-node")
                  .endMetadata()
                  .withNewSpec()
                  .withProviderID("test://ops-node")
                  .endSpec()
                  .withNewStatus()
                  .addNewAddress()
                  .withType("InternalIP")
                  .withAddress("127.0.114.1")
                  .endAddress()
                  .endStatus()
                  .build())
          .create();
    }
  }

  @AfterEach
  void stop() throws Exception {
    running.forEach(ControllerProcess::close);
    for (AutoCloseable c : closing) {
      c.close();
    }
  }

  private ControllerProcess start(List<String> args) throws Exception {
    ControllerProcess p = ClusterControllers.start(api, dir, args);
    running.add(p);
    return p;
  }

  private static List<String> local(String pool, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--provider",
                "local",
                "--provider-setting",
                "local.address-pool=" + pool,
                "--cluster-name",
                "ops"));
    args.addAll(List.of(more));
    return args;
  }

  private static Service create(String name, int port, String cls) {
    return admin
        .services()
        .inNamespace(NS)
        .resource(ClusterIT.lb(name, port).editSpec().withLoadBalancerClass(cls).endSpec().build())
        .create();
  }

  private static void delete(String... names) {
    for (String n : names) {
      admin.services().inNamespace(NS).withName(n).delete();
    }
    ClusterIT.eventually().until(() -> List.of(names).stream().allMatch(n -> get(n) == null));
  }

  private static Service get(String name) {
    return admin.services().inNamespace(NS).withName(name).get();
  }

  private static String ip(Service s) {
    return ClusterIT.ip(s);
  }

  private static List<Event> events(String name) {
    return admin.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  @Test
  @DisplayName(
      "two deployments with two classes: each Service is served once, by its own; no flapping, no"
          + " event storm")
  void twoDeployments() throws Exception {
    start(
        local(
            "127.0.111.0/24",
            "--load-balancer-class",
            "example.com/a",
            "--no-handle-default-class",
            "--lease-name",
            "ferry-a"));
    start(local("127.0.112.0/24", "--lease-name", "ferry-b"));
    create("class-a", 18401, "example.com/a");
    create("class-default", 18402, null);
    ClusterIT.eventually()
        .until(() -> ip(get("class-a")) != null && ip(get("class-default")) != null);
    assertThat(ip(get("class-a"))).startsWith("127.0.111.");
    assertThat(ip(get("class-default"))).startsWith("127.0.112.");
    // for a few seconds nothing more happens: no delete, no repeat
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(4))
        .until(
            () ->
                List.of("class-a", "class-default").stream()
                    .allMatch(
                        n ->
                            events(n).stream()
                                .allMatch(
                                    e -> e.getCount() == 1 && !e.getReason().startsWith("Delet"))));
    // a quick ensure is one Event: "Ensuring" is held back and dropped when "Ensured" follows
    assertThat(events("class-a"))
        .extracting(Event::getReason)
        .containsExactly("EnsuredLoadBalancer");
    assertThat(events("class-default"))
        .extracting(Event::getReason)
        .containsExactly("EnsuredLoadBalancer");
    assertThat(get("class-a").getMetadata().getAnnotations())
        .containsEntry("ferry.dev/owner", RealApiServer.NAMESPACE + "/ferry-a");
    delete("class-a", "class-default");
  }

  @Test
  @DisplayName(
      "a roll: the standby is Ready; a third replica starts, the leader stops; the Service keeps"
          + " its one load balancer and address throughout")
  void rollingReplacement() throws Exception {
    List<String> args = local("127.0.115.0/24", "--lease-name", "ferry-roll");
    ControllerProcess a = start(args);
    ControllerProcess b = start(args);
    ClusterIT.eventually().until(() -> a.isLeader() || b.isLeader());
    ControllerProcess leader = a.isLeader() ? a : b;
    ControllerProcess standby = leader == a ? b : a;
    assertThat(standby.isReady()).as("the standby is Ready").isTrue();
    create("rolled", 18403, null);
    ClusterIT.eventually().until(() -> ip(get("rolled")) != null);
    String address = ip(get("rolled"));

    ControllerProcess c = start(args); // the rolling update's new pod
    assertThat(c.isReady()).isTrue();
    leader.close();
    ClusterIT.eventually().until(() -> standby.isLeader() || c.isLeader());
    // the new leader checked every Service: same address, nothing deleted
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(3))
        .until(() -> address.equals(ip(get("rolled"))));
    assertThat(events("rolled"))
        .extracting(Event::getReason)
        .doesNotContain("DeletingLoadBalancer", "DeletedLoadBalancer");
    delete("rolled");
  }

  @Test
  @DisplayName(
      "kubectl wait --for=condition=ferry.dev/LoadBalancerReady works with the real kubectl")
  void kubectlWait() throws Exception {
    start(local("127.0.116.0/24"));
    create("waited", 18404, null);
    Process p =
        new ProcessBuilder(
                api.kubectl.toString(),
                "--kubeconfig",
                api.adminKubeconfigFile(dir).toString(),
                "-n",
                NS,
                "wait",
                "--for=condition=ferry.dev/LoadBalancerReady",
                "svc/waited",
                "--timeout=30s")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(40, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("condition met");
    assertThat(ip(get("waited"))).isNotNull();
    delete("waited");
  }

  @Test
  @DisplayName(
      "the API server out for longer than the lease: traffic keeps flowing; afterwards the"
          + " controller leads again and no address changed")
  void apiOutage() throws Exception {
    URI apiUrl = URI.create(api.adminConfig.getMasterUrl());
    TcpRelay relay = new TcpRelay(apiUrl.getHost(), apiUrl.getPort());
    closing.add(relay);
    Path kubeconfig = api.controllerKubeconfig(dir, "https://127.0.0.1:" + relay.port() + "/");
    ControllerProcess p =
        ClusterControllers.start(
            kubeconfig, local("127.0.117.0/24", "--lease-name", "ferry-outage"));
    running.add(p);
    ClusterIT.eventually().until(p::isLeader);
    Service created = create("outage", 18405, null);
    int nodePort = created.getSpec().getPorts().get(0).getNodePort();
    closing.add(FakeNodes.answering("127.0.114.1", nodePort, "hello"));
    closing.add(FakeNodes.kubeProxyHealth("127.0.114.1"));
    ClusterIT.eventually().until(() -> ip(get("outage")) != null);
    String address = ip(get("outage"));
    ClusterIT.eventually().until(() -> "hello".equals(FakeNodes.ask(address, 18405)));

    relay.cut();
    await().atMost(Duration.ofSeconds(20)).until(() -> !p.isLeader()); // the lease is lost
    assertThat(FakeNodes.ask(address, 18405)).as("traffic during the outage").isEqualTo("hello");
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(3))
        .until(() -> "hello".equals(FakeNodes.ask(address, 18405)));
    relay.restore();

    await().atMost(Duration.ofSeconds(30)).until(p::isLeader);
    assertThat(p.awaitExitFor(Duration.ZERO)).as("the process did not exit").isEmpty();
    assertThat(ip(get("outage"))).isEqualTo(address);
    assertThat(FakeNodes.ask(address, 18405)).isEqualTo("hello");
    delete("outage");
  }

  @Test
  @DisplayName(
      "drift repair: the local load balancer deleted behind Ferry's back and a cleared status are"
          + " both back within one resync period")
  void driftRepaired() throws Exception {
    String pool = "127.0.120.0/24";
    start(local(pool, "--resync-period", "2s"));
    Service created = create("drifty", 18406, null);
    ClusterIT.eventually().until(() -> ip(get("drifty")) != null);
    String address = ip(get("drifty"));
    dev.ferry.spi.LoadBalancerProvider behindItsBack =
        dev.ferry.controller.ProviderRegistry.load(getClass().getClassLoader())
            .get("local")
            .create(
                dev.ferry.spi.ProviderContext.builder("ops")
                    .settings(java.util.Map.of("local.address-pool", pool))
                    .build());
    dev.ferry.spi.LoadBalancerRef ref =
        new dev.ferry.spi.LoadBalancerRef("ops", NS, "drifty", created.getMetadata().getUid());
    behindItsBack.ensureDeleted(ref);
    assertThat(behindItsBack.find(ref)).isEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> behindItsBack.find(ref).isPresent());
    assertThat(behindItsBack.find(ref).orElseThrow().ingress().get(0).ip()).contains(address);

    admin
        .services()
        .inNamespace(NS)
        .withName("drifty")
        .editStatus(
            sv ->
                new ServiceBuilder(sv)
                    .editStatus()
                    .withNewLoadBalancer()
                    .endLoadBalancer()
                    .endStatus()
                    .build());
    assertThat(ip(get("drifty"))).isNull();
    await().atMost(Duration.ofSeconds(10)).until(() -> address.equals(ip(get("drifty"))));
    delete("drifty");
  }
}
