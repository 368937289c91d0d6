package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.LoadBalancerPlan;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.resilience4j.core.IntervalFunction;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The real controller against fabric8's mock API server in CRUD mode, with a recording in-memory
 * provider. Each test starts a fresh controller over a fresh server.
 */
@EnableKubernetesMockClient(crud = true)
class ControllerComponentTest {

  private static final String NS = "shop";

  KubernetesClient client;
  KubernetesMockServer server;
  private RecordingProvider provider;
  private SimpleMeterRegistry registry;
  private FerryController controller;

  @BeforeEach
  void start() {
    for (int i = 1; i <= 2; i++) {
      client.nodes().resource(node("node-" + i, "10.0.0." + i).build()).create();
    }
    provider = new RecordingProvider();
    registry = new SimpleMeterRegistry();
    ControllerSettings settings =
        ControllerSettings.defaults("test").withNodeSyncDelay(Duration.ofMillis(100));
    controller =
        new FerryController(
            client, provider, settings, registry, IntervalFunction.of(Duration.ofMillis(300)));
    controller.start();
  }

  @AfterEach
  void stop() {
    controller.close();
  }

  private static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50));
  }

  static NodeBuilder node(String name, String ip) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withProviderID("test://" + name)
        .endSpec()
        .withNewStatus()
        .addNewAddress()
        .withType("InternalIP")
        .withAddress(ip)
        .endAddress()
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .endCondition()
        .endStatus();
  }

  static ServiceBuilder lb(String name) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
        .addToSelector("app", name)
        .addNewPort()
        .withName("http")
        .withPort(80)
        .withProtocol("TCP")
        .endPort()
        .endSpec();
  }

  private Service get(String name) {
    return client.services().inNamespace(NS).withName(name).get();
  }

  private List<Event> events(String name) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  private List<String> reasons(String name) {
    return events(name).stream().map(Event::getReason).toList();
  }

  private void label(String node, String key, String value) {
    client
        .nodes()
        .withName(node)
        .edit(n -> new NodeBuilder(n).editMetadata().addToLabels(key, value).endMetadata().build());
  }

  /** The node names behind {@code name}'s load balancer in the recording provider. */
  private List<String> backendNames(String name) {
    return provider.balancer(NS + "/" + name).orElseThrow().backends().stream()
        .map(Backend::nodeName)
        .toList();
  }

  private Service createAndWaitForAddress(ServiceBuilder builder) {
    Service created = client.services().inNamespace(NS).resource(builder.build()).create();
    String name = created.getMetadata().getName();
    eventually().until(() -> hasIngress(get(name)));
    return get(name);
  }

  private static boolean hasIngress(Service s) {
    return s != null
        && s.getStatus() != null
        && s.getStatus().getLoadBalancer() != null
        && s.getStatus().getLoadBalancer().getIngress() != null
        && !s.getStatus().getLoadBalancer().getIngress().isEmpty();
  }

  @Test
  @DisplayName("the informers list Services and Nodes in pages of 500, as client-go's pager does")
  void listsInPages() throws InterruptedException {
    List<String> lists = new java.util.ArrayList<>();
    for (int i = server.getRequestCount(); i > 0; i--) {
      var request = server.takeRequest(1, java.util.concurrent.TimeUnit.SECONDS);
      if (request != null
          && "GET".equals(request.getMethod())
          && !request.getPath().contains("watch=true")) {
        lists.add(request.getPath());
      }
    }
    assertThat(lists)
        .anySatisfy(p -> assertThat(p).startsWith("/api/v1/services?").contains("limit=500"))
        .anySatisfy(p -> assertThat(p).startsWith("/api/v1/nodes?").contains("limit=500"));
  }

  @Test
  @DisplayName("create: finalizer, NodePorts, one ensure with the plan, status and events")
  void create() {
    Service s = createAndWaitForAddress(lb("web"));

    assertThat(s.getMetadata().getFinalizers()).contains(ServiceClassifier.FINALIZER);
    Integer nodePort = s.getSpec().getPorts().get(0).getNodePort();
    assertThat(nodePort).isBetween(30000, 32767);
    assertThat(s.getStatus().getLoadBalancer().getIngress().get(0).getIp()).startsWith("192.0.2.");
    assertThat(s.getStatus().getLoadBalancer().getIngress().get(0).getIpMode()).isEqualTo("VIP");

    LoadBalancerPlan plan = provider.balancer(NS + "/web").orElseThrow();
    assertThat(plan.listeners().get(0).nodePort()).isEqualTo(nodePort);
    assertThat(plan.backends()).extracting(Backend::nodeName).containsExactly("node-1", "node-2");
    assertThat(provider.calls("ensure")).hasSize(1);
    eventually().until(() -> reasons("web").contains("EnsuredLoadBalancer"));
    // the ensure took milliseconds: "Ensuring" was held back and dropped for its outcome
    await()
        .during(ServiceEvents.HOLD.plusMillis(300))
        .atMost(ServiceEvents.HOLD.plusSeconds(1))
        .until(() -> reasons("web").equals(List.of("EnsuredLoadBalancer")));
  }

  @Test
  @DisplayName(
      "the update Ferry's own finalizer brings is not reconciled again: a Service that has its"
          + " NodePorts takes one reconcile")
  void ownFinalizerNotReconciledAgain() {
    ServiceBuilder withPort = lb("ported");
    withPort.editSpec().editFirstPort().withNodePort(30080).endPort().endSpec();
    createAndWaitForAddress(withPort);

    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(3))
        .until(() -> registry.timer("ferry.reconcile.duration").count() == 1);
    assertThat(provider.calls("ensure")).hasSize(1);
  }

  @Test
  @DisplayName("externalTrafficPolicy Local gets a healthCheckNodePort and an HTTP health check")
  void localPolicy() {
    Service s =
        createAndWaitForAddress(
            lb("local").editSpec().withExternalTrafficPolicy("Local").endSpec());
    Integer hcnp = s.getSpec().getHealthCheckNodePort();
    assertThat(hcnp)
        .isBetween(30000, 32767)
        .isNotEqualTo(s.getSpec().getPorts().get(0).getNodePort());
    HealthCheck hc = provider.balancer(NS + "/local").orElseThrow().healthCheck();
    assertThat(hc.protocol()).isEqualTo(HealthCheck.Type.HTTP);
    assertThat(hc.port()).isEqualTo(hcnp);
  }

  @Test
  @DisplayName("allocateLoadBalancerNodePorts false: Ferry still fills the NodePorts it needs")
  void allocateFalse() {
    Service s =
        createAndWaitForAddress(
            lb("noalloc").editSpec().withAllocateLoadBalancerNodePorts(false).endSpec());
    assertThat(s.getSpec().getPorts().get(0).getNodePort()).isBetween(30000, 32767);
  }

  private void addHttpsPort(String name) {
    client
        .services()
        .inNamespace(NS)
        .withName(name)
        .edit(
            s ->
                new ServiceBuilder(s)
                    .editSpec()
                    .addNewPort()
                    .withName("https")
                    .withPort(443)
                    .withProtocol("TCP")
                    .endPort()
                    .endSpec()
                    .build());
  }

  @Test
  @DisplayName("a port change ensures again with the new listeners")
  void portChange() {
    createAndWaitForAddress(lb("web"));
    addHttpsPort("web");
    eventually().until(() -> provider.balancer(NS + "/web").orElseThrow().listeners().size() == 2);
    assertThat(provider.calls("ensure")).hasSize(2);
    assertThat(get("web").getSpec().getPorts()).allMatch(p -> p.getNodePort() != null);
  }

  @Test
  @DisplayName("a node added or removed calls updateBackends only, never ensure")
  void nodeChanges() {
    createAndWaitForAddress(lb("web"));
    long nodesOnly = ServiceReconciler.nodesOnlyReconciles.sum();
    client.nodes().resource(node("node-3", "10.0.0.3").build()).create();
    eventually().until(() -> provider.balancer(NS + "/web").orElseThrow().backends().size() == 3);
    client.nodes().withName("node-1").delete();
    eventually()
        .until(() -> backendNames("web"), names -> names.equals(List.of("node-2", "node-3")));
    assertThat(provider.calls("ensure")).hasSize(1);
    assertThat(provider.calls("updateBackends")).hasSize(2);
    // the Service unchanged: its backends alone were computed, without planning it anew
    assertThat(ServiceReconciler.nodesOnlyReconciles.sum() - nodesOnly).isEqualTo(2);
    // one Event per Service for every node change, its count bumped (not one Event per change)
    eventually()
        .until(
            () ->
                events("web").stream()
                    .filter(e -> "UpdatedLoadBalancer".equals(e.getReason()))
                    .map(e -> e.getCount() + " " + e.getMessage())
                    .toList(),
            l -> l.equals(List.of("2 Updated load balancer with new hosts")));
    // and after them, a change of the Service itself is planned in full
    addHttpsPort("web");
    eventually().until(() -> provider.balancer(NS + "/web").orElseThrow().listeners().size() == 2);
    assertThat(provider.calls("ensure")).hasSize(2);
    assertThat(backendNames("web")).containsExactly("node-2", "node-3");
  }

  @Test
  @DisplayName("a Ready flap or an unrelated label change makes zero provider calls")
  void readyFlap() {
    createAndWaitForAddress(lb("web"));
    int before = provider.calls().size();
    for (String status : List.of("False", "True", "False", "True")) {
      client
          .nodes()
          .withName("node-1")
          .edit(
              n -> {
                Node copy = new NodeBuilder(n).build();
                copy.getStatus().getConditions().get(0).setStatus(status);
                copy.getMetadata().setLabels(Map.of("flap", status));
                return copy;
              });
    }
    // a marker change that must be seen proves the node events above were processed too
    client.nodes().resource(node("node-9", "10.0.0.9").build()).create();
    eventually().until(() -> provider.balancer(NS + "/web").orElseThrow().backends().size() == 3);
    assertThat(provider.calls().subList(before, provider.calls().size()))
        .extracting(RecordingProvider.Call::operation)
        .containsExactly("updateBackends");
  }

  @Test
  @DisplayName(
      "target-node-labels: only the labelled nodes are backends; labelling another node adds it")
  void targetNodeLabels() {
    label("node-1", "role", "edge");
    createAndWaitForAddress(
        lb("web")
            .editMetadata()
            .addToAnnotations(Planner.TARGET_NODE_LABELS, "role=edge")
            .endMetadata());
    eventually().until(() -> backendNames("web"), names -> names.equals(List.of("node-1")));
    label("node-2", "role", "edge");
    eventually()
        .until(() -> backendNames("web"), names -> names.equals(List.of("node-1", "node-2")));
  }

  @Test
  @DisplayName("an excluded node leaves the backends; the label removed, it comes back")
  void excludedNode() {
    createAndWaitForAddress(lb("web"));
    label("node-2", NodeEligibility.EXCLUDE_LABEL, "true");
    eventually().until(() -> provider.balancer(NS + "/web").orElseThrow().backends().size() == 1);
  }

  @Test
  @DisplayName("type change to ClusterIP: load balancer deleted, status cleared, finalizer gone")
  void typeChange() {
    createAndWaitForAddress(lb("web"));
    client
        .services()
        .inNamespace(NS)
        .withName("web")
        .edit(s -> new ServiceBuilder(s).editSpec().withType("ClusterIP").endSpec().build());
    eventually()
        .until(
            () ->
                get("web").getMetadata().getFinalizers() == null
                    || get("web").getMetadata().getFinalizers().isEmpty());
    assertThat(provider.balancer(NS + "/web")).isEmpty();
    assertThat(provider.calls("ensureDeleted")).hasSize(1);
    assertThat(hasIngress(get("web"))).isFalse();
    eventually().until(() -> reasons("web").contains("DeletedLoadBalancer"));
    assertThat(reasons("web")).doesNotContain("DeletingLoadBalancer"); // held, then superseded
  }

  @Test
  @DisplayName(
      "deletion: the load balancer is deleted, then the finalizer goes and the object with it")
  void deletion() {
    createAndWaitForAddress(lb("web"));
    client.services().inNamespace(NS).withName("web").delete();
    eventually().until(() -> get("web") == null);
    assertThat(provider.balancer(NS + "/web")).isEmpty();
    assertThat(provider.calls("ensureDeleted")).hasSize(1);
  }

  @Test
  @DisplayName("a failing cloud gives a Warning event and a retry with backoff that succeeds later")
  void providerFailure() {
    provider.failNext(2);
    createAndWaitForAddress(lb("web"));
    assertThat(provider.calls("ensure")).hasSize(3);
    assertThat(events("web"))
        .filteredOn(e -> e.getReason().equals("SyncLoadBalancerFailed"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getType()).isEqualTo("Warning");
              assertThat(e.getCount()).isEqualTo(2); // repeated event counted, not duplicated
              assertThat(e.getMessage()).contains("simulated cloud outage");
            });
  }

  @Test
  @DisplayName("an invalid annotation: Warning event naming it, no provider call, no retry loop")
  void invalidAnnotation() {
    client
        .services()
        .inNamespace(NS)
        .resource(
            lb("bad")
                .editMetadata()
                .addToAnnotations(Planner.HC_INTERVAL, "often")
                .endMetadata()
                .build())
        .create();
    eventually().until(() -> reasons("bad").contains("SyncLoadBalancerFailed"));
    Event warning = events("bad").get(0);
    assertThat(warning.getType()).isEqualTo("Warning");
    assertThat(warning.getMessage())
        .contains("metadata.annotations[ferry.dev/health-check-interval]", "'often'");
    assertThat(provider.calls()).isEmpty();
    // fixing the annotation brings the Service back and it gets an address
    client
        .services()
        .inNamespace(NS)
        .withName("bad")
        .edit(
            s ->
                new ServiceBuilder(s)
                    .editMetadata()
                    .addToAnnotations(Planner.HC_INTERVAL, "5")
                    .endMetadata()
                    .build());
    eventually().until(() -> hasIngress(get("bad")));
    assertThat(events("bad"))
        .filteredOn(e -> e.getReason().equals("SyncLoadBalancerFailed"))
        .singleElement()
        .satisfies(e -> assertThat(e.getCount()).isEqualTo(1));
  }

  @Test
  @DisplayName(
      "a protocol the provider lacks: Warning event naming spec.ports[i].protocol, no provider call")
  void unsupportedProtocol() {
    client
        .services()
        .inNamespace(NS)
        .resource(
            lb("sctp").editSpec().editFirstPort().withProtocol("SCTP").endPort().endSpec().build())
        .create();
    eventually().until(() -> reasons("sctp").contains("SyncLoadBalancerFailed"));
    assertThat(events("sctp").get(0).getMessage()).contains("spec.ports[0].protocol", "SCTP");
    assertThat(provider.calls()).isEmpty();
  }

  @Test
  @DisplayName(
      "a NodePort another Service holds: Warning event for the second Service, the first untouched")
  void nodePortClash() {
    Service first = createAndWaitForAddress(lb("first"));
    int taken = first.getSpec().getPorts().get(0).getNodePort();
    client
        .services()
        .inNamespace(NS)
        .resource(
            lb("second").editSpec().editFirstPort().withNodePort(taken).endPort().endSpec().build())
        .create();
    eventually().until(() -> reasons("second").contains("SyncLoadBalancerFailed"));
    assertThat(events("second").get(0).getMessage())
        .contains("spec.ports[0].nodePort", String.valueOf(taken));
    assertThat(provider.balancer(NS + "/second")).isEmpty();
    assertThat(provider.balancer(NS + "/first")).isPresent();
  }

  @Test
  @DisplayName("a Service of a foreign class is left untouched")
  void foreignClass() {
    client
        .services()
        .inNamespace(NS)
        .resource(
            lb("other").editSpec().withLoadBalancerClass("example.com/other").endSpec().build())
        .create();
    // a Ferry Service created after it is handled, so the queue has seen both
    createAndWaitForAddress(lb("mine"));
    Service other = get("other");
    assertThat(other.getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(other.getSpec().getPorts().get(0).getNodePort()).isNull();
    assertThat(provider.calls())
        .extracting(RecordingProvider.Call::service)
        .doesNotContain(NS + "/other");
  }

  @Test
  @DisplayName(
      "a restarted controller rebuilds its NodePort state and never hands out a taken port")
  void restartRebuildsAllocator() {
    Service first = createAndWaitForAddress(lb("first"));
    controller.close();
    RecordingProvider fresh = new RecordingProvider();
    provider = fresh;
    controller =
        new FerryController(
            client,
            fresh,
            ControllerSettings.defaults("test"),
            new SimpleMeterRegistry(),
            IntervalFunction.of(Duration.ofMillis(300)));
    controller.start();
    Service second = createAndWaitForAddress(lb("second"));
    assertThat(second.getSpec().getPorts().get(0).getNodePort())
        .isNotEqualTo(first.getSpec().getPorts().get(0).getNodePort());
    // the restart ensured the existing Service once (idempotent), telling the provider the
    // address the Service shows, so that it can keep it
    eventually().until(() -> fresh.calls("ensure").size() == 2);
    assertThat(fresh.balancer(NS + "/first").orElseThrow().currentAddresses())
        .containsExactly(first.getStatus().getLoadBalancer().getIngress().get(0).getIp());
  }
}
