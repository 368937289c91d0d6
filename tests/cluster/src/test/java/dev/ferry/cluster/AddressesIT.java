package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.controller.ControllerProcess;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Addresses operators keep (issue 37) end to end: the controller process with the local provider on
 * the real kube-apiserver. Retained addresses, with real traffic through the address before the
 * Service is deleted and after it is made again, and {@code ferry gc} (in this JVM, so it sees the
 * local provider's state) listing and deleting what is retained; shared addresses, with real
 * traffic to each Service on its own port of one address.
 */
class AddressesIT {

  private static final String CLUSTER = "retain-it";
  private static final String POOL = "127.0.150.0/24";
  private static final String NODE = "127.0.151.1";
  private static final int PORT = 18650;
  private static RealApiServer api;
  private static KubernetesClient admin;
  private static final List<AutoCloseable> servers = new ArrayList<>();
  @TempDir static Path dir;
  private static final List<String> PROVIDER =
      List.of(
          "--provider",
          "local",
          "--provider-setting",
          "local.address-pool=" + POOL,
          "--provider-setting",
          "local.ipv6-address-pool=none",
          // a load balancer another controller left, on an address outside Ferry's pool
          "--provider-setting",
          "local.existing=legacy-web=127.0.152.10:18660->31660@" + NODE,
          "--cluster-name",
          CLUSTER);
  private ControllerProcess controller;
  private final List<String> services = new ArrayList<>();

  @BeforeAll
  static void node() throws Exception {
    api = RealApiServer.get();
    admin = api.admin;
    admin
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName("rt-1")
                .addToLabels("ferry.dev/test", "retain")
                .endMetadata()
                .withNewSpec()
                .withProviderID("test://rt-1")
                .endSpec()
                .withNewStatus()
                .addNewAddress()
                .withType("InternalIP")
                .withAddress(NODE)
                .endAddress()
                .endStatus()
                .build())
        .create();
    servers.add(FakeNodes.kubeProxyHealth(NODE));
  }

  @AfterAll
  static void removeNode() throws Exception {
    if (admin != null) {
      admin.nodes().withName("rt-1").delete();
    }
    for (AutoCloseable c : servers) {
      c.close();
    }
  }

  @BeforeEach
  void start() throws Exception {
    controller = ClusterControllers.start(api, dir, PROVIDER);
  }

  @AfterEach
  void stop() {
    services.forEach(s -> admin.services().inNamespace("default").withName(s).delete());
    eventually().until(() -> services.stream().allMatch(s -> get(s) == null));
    controller.close();
  }

  private static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100));
  }

  private Service create(String name, Map<String, String> annotations) throws Exception {
    if (!services.contains(name)) {
      services.add(name);
    }
    ServiceBuilder b = ClusterIT.lb(name, PORT);
    b.editMetadata()
        .addToAnnotations(
            "service.beta.kubernetes.io/aws-load-balancer-target-node-labels",
            "ferry.dev/test=retain")
        .addToAnnotations(annotations)
        .endMetadata();
    Service s = admin.services().inNamespace("default").resource(b.build()).create();
    int nodePort = s.getSpec().getPorts().get(0).getNodePort();
    servers.add(FakeNodes.answering(NODE, nodePort, "node rt-1"));
    return s;
  }

  private static Service get(String name) {
    return admin.services().inNamespace("default").withName(name).get();
  }

  private static String address(String name) {
    eventually().until(() -> ClusterIT.ip(get(name)) != null);
    return ClusterIT.ip(get(name));
  }

  private void delete(String name) {
    admin.services().inNamespace("default").withName(name).delete();
    eventually().until(() -> get(name) == null); // Ferry's finalizer came off
  }

  private static String gc(String... args) throws Exception {
    List<String> all = new ArrayList<>(PROVIDER);
    all.addAll(List.of(args));
    return GcIT.gc(api.adminKubeconfigFile(dir), all);
  }

  private static List<String> events(String name, String reason) {
    return admin.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .map(Event::getMessage)
        .toList();
  }

  /** The line of {@code gc}'s retained table for {@code address}, or null. */
  private static String retainedLine(String gcOutput, String address) {
    return gcOutput.lines().filter(l -> l.startsWith(address + " ")).findFirst().orElse(null);
  }

  @Test
  @DisplayName(
      "Retain: deleted, the address stops answering and gc lists it for the Service; made again"
          + " with claim-retained it gets the same address and real traffic flows; gc deletes it"
          + " only when named")
  void deleteAndRecreateKeepsTheAddress() throws Exception {
    Map<String, String> retain =
        Map.of("ferry.dev/reclaim-policy", "Retain", "ferry.dev/claim-retained", "true");
    create("rt-keep", retain);
    String a = address("rt-keep");
    eventually().until(() -> "node rt-1".equals(FakeNodes.ask(a, PORT)));

    delete("rt-keep");
    assertThat(FakeNodes.ask(a, PORT)).as("no load balancer on " + a).isNull();
    assertThat(events("rt-keep", "DeletedLoadBalancer"))
        .anyMatch(m -> m.contains(a) && m.contains("retained for default/rt-keep"));
    String listed = gc();
    assertThat(retainedLine(listed, a)).as(listed).contains("default/rt-keep").contains("idle");
    // a Service that does not claim it gets another address
    create("rt-other", Map.of());
    assertThat(address("rt-other")).isNotEqualTo(a);

    create("rt-keep", retain);
    assertThat(address("rt-keep")).isEqualTo(a);
    eventually().until(() -> "node rt-1".equals(FakeNodes.ask(a, PORT)));
    assertThat(retainedLine(gc(), a)).contains("in use");
    // gc --delete never touches it; --delete-retained refuses while it is in use
    gc("--delete");
    assertThat(retainedLine(gc(), a)).isNotNull();

    delete("rt-keep");
    assertThat(retainedLine(gc(), a)).contains("idle");
    String deleted = gc("--delete-retained", a);
    assertThat(deleted).contains("1 deleted");
    assertThat(retainedLine(deleted, a)).isNull();
  }

  @Test
  @DisplayName(
      "Delete (the default): nothing is retained, and a Service claiming its name gets a new"
          + " address; a Retain Service turned ClusterIP keeps its address for its name")
  void deleteCleansEverything() throws Exception {
    create("rt-drop", Map.of());
    String b = address("rt-drop");
    delete("rt-drop");
    assertThat(gc()).contains("0 addresses retained for cluster " + CLUSTER);
    assertThat(FakeNodes.ask(b, PORT)).isNull();

    create("rt-type", Map.of("ferry.dev/reclaim-policy", "Retain"));
    String c = address("rt-type");
    admin
        .services()
        .inNamespace("default")
        .withName("rt-type")
        .edit(s -> new ServiceBuilder(s).editSpec().withType("ClusterIP").endSpec().build());
    eventually().until(() -> ClusterIT.ip(get("rt-type")) == null);
    eventually().until(() -> retainedLine(gc(), c) != null);
    assertThat(retainedLine(gc(), c)).contains("default/rt-type").contains("idle");
    gc("--delete-retained", c);
  }

  @Test
  @DisplayName(
      "bad input: an unknown reclaim policy gets a Warning naming the annotation and no load"
          + " balancer; fixed, the Service is served")
  void badPolicy() throws Exception {
    create("rt-bad", Map.of("ferry.dev/reclaim-policy", "Keep"));
    eventually()
        .until(
            () ->
                events("rt-bad", "SyncLoadBalancerFailed").stream()
                    .anyMatch(m -> m.contains("ferry.dev/reclaim-policy") && m.contains("Keep")));
    assertThat(ClusterIT.ip(get("rt-bad"))).isNull();
    admin
        .services()
        .inNamespace("default")
        .withName("rt-bad")
        .edit(
            s ->
                new ServiceBuilder(s)
                    .editMetadata()
                    .addToAnnotations("ferry.dev/reclaim-policy", "Delete")
                    .endMetadata()
                    .build());
    assertThat(address("rt-bad")).startsWith("127.0.150.");
  }

  @Test
  @DisplayName(
      "allow-shared-ip: two Services with one key get one address, each answering on its own port;"
          + " a third on a taken port gets a Warning naming the first and no address; deleting one"
          + " keeps the address for the other")
  void sharedAddress() throws Exception {
    Map<String, String> key = Map.of("ferry.dev/allow-shared-ip", "web");
    create("sh-a", key);
    String a = address("sh-a");
    Service b = ClusterIT.lb("sh-b", PORT + 1).build();
    b.getMetadata()
        .setAnnotations(
            Map.of(
                "service.beta.kubernetes.io/aws-load-balancer-target-node-labels",
                "ferry.dev/test=retain",
                "ferry.dev/allow-shared-ip",
                "web"));
    services.add("sh-b");
    b = admin.services().inNamespace("default").resource(b).create();
    servers.add(
        FakeNodes.answering(NODE, b.getSpec().getPorts().get(0).getNodePort(), "node rt-1 b"));
    assertThat(address("sh-b")).as("one address for the key").isEqualTo(a);
    eventually().until(() -> "node rt-1".equals(FakeNodes.ask(a, PORT)));
    eventually().until(() -> "node rt-1 b".equals(FakeNodes.ask(a, PORT + 1)));

    create("sh-c", key); // the same port as sh-a, and made after it
    eventually()
        .until(
            () ->
                events("sh-c", "SyncLoadBalancerFailed").stream()
                    .anyMatch(
                        m ->
                            m.contains("ferry.dev/allow-shared-ip")
                                && m.contains("default/sh-a")
                                && m.contains(PORT + "/TCP")));
    assertThat(ClusterIT.ip(get("sh-c"))).isNull();
    assertThat(FakeNodes.ask(a, PORT)).isEqualTo("node rt-1"); // sh-a undisturbed
    delete("sh-c");

    delete("sh-a");
    assertThat(FakeNodes.ask(a, PORT)).as("sh-a's port closed").isNull();
    assertThat(FakeNodes.ask(a, PORT + 1)).as("sh-b still served").isEqualTo("node rt-1 b");
    assertThat(ClusterIT.ip(get("sh-b"))).isEqualTo(a);
  }

  @Test
  @DisplayName(
      "adopt: a Service naming another controller's load balancer gets a Normal AdoptionPending"
          + " event with the changes and a digest, and nothing changes; confirmed with the digest,"
          + " it gets that address; real traffic through it never fails throughout; deleted with"
          + " Retain, the load balancer is given back and still serves; adopting what does not"
          + " exist gets a Warning naming the annotation")
  void adopt() throws Exception {
    servers.add(FakeNodes.answering(NODE, 31660, "node rt-1 legacy"));
    String legacy = "127.0.152.10";
    eventually().until(() -> "node rt-1 legacy".equals(FakeNodes.ask(legacy, 18660)));
    java.util.concurrent.atomic.AtomicInteger sent =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger failed =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean stop =
        new java.util.concurrent.atomic.AtomicBoolean();
    Thread traffic =
        Thread.ofVirtual()
            .start(
                () -> {
                  long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                  while (!stop.get() && System.nanoTime() < until) {
                    sent.incrementAndGet();
                    if (!"node rt-1 legacy".equals(FakeNodes.ask(legacy, 18660))) {
                      failed.incrementAndGet();
                    }
                    try {
                      Thread.sleep(20);
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                });
    try {
      Service s = ClusterIT.lb("rt-adopt", 18660).build();
      s.getSpec().getPorts().get(0).setNodePort(31660);
      s.getMetadata()
          .setAnnotations(
              Map.of(
                  "service.beta.kubernetes.io/aws-load-balancer-target-node-labels",
                  "ferry.dev/test=retain",
                  "ferry.dev/adopt",
                  "legacy-web",
                  "ferry.dev/reclaim-policy",
                  "Retain"));
      services.add("rt-adopt");
      admin.services().inNamespace("default").resource(s).create();
      eventually().until(() -> !events("rt-adopt", "AdoptionPending").isEmpty());
      String pending = events("rt-adopt", "AdoptionPending").get(0);
      assertThat(pending).contains("legacy-web").contains(legacy);
      assertThat(ClusterIT.ip(get("rt-adopt"))).isNull();
      CloudE2e.confirmAdoption(admin, "default", "rt-adopt", pending);
      assertThat(address("rt-adopt")).isEqualTo(legacy);
      Thread.sleep(500);
      delete("rt-adopt");
      Thread.sleep(500);
    } finally {
      stop.set(true);
      traffic.join();
    }
    System.out.printf(
        "adoption under traffic: %d connections through %s, %d failed%n",
        sent.get(), "127.0.152.10:18660", failed.get());
    assertThat(sent.get()).isGreaterThan(20);
    assertThat(failed.get()).as("connections that failed of " + sent.get()).isZero();
    assertThat(FakeNodes.ask(legacy, 18660))
        .as("given back, it serves on")
        .isEqualTo("node rt-1 legacy");

    create("rt-nothing", Map.of("ferry.dev/adopt", "no-such-lb"));
    eventually()
        .until(
            () ->
                events("rt-nothing", "SyncLoadBalancerFailed").stream()
                    .anyMatch(x -> x.contains("ferry.dev/adopt") && x.contains("no-such-lb")));
    assertThat(ClusterIT.ip(get("rt-nothing"))).isNull();
  }
}
