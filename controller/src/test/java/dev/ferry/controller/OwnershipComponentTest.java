package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.resilience4j.core.IntervalFunction;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Which deployment a Service belongs to, recorded on the Service: several deployments share a
 * cluster without a fight, and changing a deployment's flags never deletes or orphans a load
 * balancer.
 */
@EnableKubernetesMockClient(crud = true)
class OwnershipComponentTest {

  private static final String NS = "own";

  KubernetesClient client;
  private final List<FerryController> running = new ArrayList<>();

  @BeforeEach
  void nodes() {
    client.nodes().resource(ControllerComponentTest.node("node-1", "10.0.0.1").build()).create();
  }

  @AfterEach
  void stop() {
    running.forEach(FerryController::close);
  }

  private static ControllerSettings settings(
      String cluster, String cls, boolean handleDefault, String owner) {
    ControllerSettings d = ControllerSettings.defaults(cluster);
    return new ControllerSettings(
        cluster,
        cls,
        handleDefault,
        d.nodePortRange(),
        d.workers(),
        Duration.ofMillis(50),
        d.providerTimeout(),
        d.resyncPeriod(),
        owner,
        d.reclaimPolicy());
  }

  private FerryController start(RecordingProvider provider, ControllerSettings settings) {
    FerryController c =
        new FerryController(
            client,
            provider,
            settings,
            new SimpleMeterRegistry(),
            IntervalFunction.of(Duration.ofMillis(200)));
    c.start();
    running.add(c);
    return c;
  }

  private static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50));
  }

  private Service create(String name, String cls) {
    return client
        .services()
        .inNamespace(NS)
        .resource(
            ControllerComponentTest.lb(name)
                .editMetadata()
                .withNamespace(NS)
                .endMetadata()
                .editSpec()
                .withLoadBalancerClass(cls)
                .endSpec()
                .build())
        .create();
  }

  private Service get(String name) {
    return client.services().inNamespace(NS).withName(name).get();
  }

  private List<Event> warnings(String name) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .filter(e -> "Warning".equals(e.getType()))
        .toList();
  }

  @Test
  @DisplayName(
      "two deployments with different classes, one handling Services without a class: each"
          + " Service is served once, by its own, with no fight")
  void twoDeployments() {
    RecordingProvider a = new RecordingProvider();
    RecordingProvider b = new RecordingProvider();
    start(a, settings("test", "example.com/a", false, "ferry/a"));
    start(b, settings("test", "example.com/b", true, "ferry/b"));
    create("for-a", "example.com/a");
    create("for-b", null);
    eventually().until(() -> a.balancer(NS + "/for-a").isPresent());
    eventually().until(() -> b.balancer(NS + "/for-b").isPresent());
    assertThat(get("for-a").getMetadata().getAnnotations())
        .containsEntry(ServiceClassifier.OWNER, "ferry/a")
        .containsEntry(ServiceClassifier.OWNER_CLUSTER, "test");
    // a marker Service handled after the others proves both deployments saw everything
    create("marker", "example.com/a");
    eventually().until(() -> a.balancer(NS + "/marker").isPresent());
    assertThat(b.calls()).extracting(RecordingProvider.Call::service).containsOnly(NS + "/for-b");
    assertThat(a.calls())
        .extracting(RecordingProvider.Call::service)
        .containsOnly(NS + "/for-a", NS + "/marker");
    assertThat(a.calls("ensureDeleted")).isEmpty();
    assertThat(b.calls("ensureDeleted")).isEmpty();
  }

  @Test
  @DisplayName(
      "--load-balancer-class changed between runs: the Service it provisioned keeps being served,"
          + " with one Warning saying why")
  void classFlagChange() {
    RecordingProvider first = new RecordingProvider();
    FerryController c = start(first, settings("test", "example.com/old", false, "ferry/x"));
    create("kept", "example.com/old");
    eventually().until(() -> first.balancer(NS + "/kept").isPresent());
    c.close();
    RecordingProvider second = new RecordingProvider();
    start(second, settings("test", "example.com/new", false, "ferry/x"));
    eventually().until(() -> second.balancer(NS + "/kept").isPresent());
    assertThat(second.calls("ensureDeleted")).isEmpty();
    eventually().until(() -> !warnings("kept").isEmpty());
    assertThat(warnings("kept"))
        .singleElement()
        .satisfies(e -> assertThat(e.getMessage()).contains("keeps serving"));
  }

  @Test
  @DisplayName(
      "--no-handle-default-class after a run that handled it: Services without a class keep their"
          + " load balancer")
  void defaultClassFlagChange() {
    RecordingProvider first = new RecordingProvider();
    FerryController c = start(first, settings("test", "ferry.dev/lb", true, "ferry/x"));
    create("plain", null);
    eventually().until(() -> first.balancer(NS + "/plain").isPresent());
    c.close();
    RecordingProvider second = new RecordingProvider();
    start(second, settings("test", "ferry.dev/lb", false, "ferry/x"));
    eventually().until(() -> second.balancer(NS + "/plain").isPresent());
    assertThat(second.calls("ensureDeleted")).isEmpty();
    assertThat(get("plain").getMetadata().getFinalizers()).contains(ServiceClassifier.FINALIZER);
  }

  @Test
  @DisplayName(
      "--cluster-name changed between runs: existing load balancers are found under the name they"
          + " were made with; new Services get the new name")
  void clusterNameChange() {
    RecordingProvider first = new RecordingProvider();
    FerryController c = start(first, settings("before", "ferry.dev/lb", true, "ferry/x"));
    create("old", null);
    eventually().until(() -> first.balancer(NS + "/old").isPresent());
    c.close();
    RecordingProvider second = new RecordingProvider();
    start(second, settings("after", "ferry.dev/lb", true, "ferry/x"));
    eventually().until(() -> second.balancer(NS + "/old").isPresent());
    assertThat(second.balancer(NS + "/old").orElseThrow().ref().cluster()).isEqualTo("before");
    create("new", null);
    eventually().until(() -> second.balancer(NS + "/new").isPresent());
    assertThat(second.balancer(NS + "/new").orElseThrow().ref().cluster()).isEqualTo("after");
    // deleting the old Service deletes what was made under the old name
    client.services().inNamespace(NS).withName("old").delete();
    eventually().until(() -> get("old") == null);
    assertThat(second.balancer(NS + "/old")).isEmpty();
  }
}
