package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderException;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.resilience4j.core.IntervalFunction;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The periodic check (--resync-period, short here): drift is repaired, a cleared status comes back,
 * an idle period costs no change and no event; the Service's condition says where it stands.
 */
@EnableKubernetesMockClient(crud = true)
class DriftComponentTest {

  private static final String NS = "drift";

  KubernetesClient client;
  private RecordingProvider provider;
  private FerryController controller;

  @BeforeEach
  void start() {
    client.nodes().resource(ControllerComponentTest.node("node-1", "10.0.0.1").build()).create();
    provider = new RecordingProvider();
    controller =
        new FerryController(
            client,
            provider,
            ControllerSettings.defaults("test").withResyncPeriod(Duration.ofSeconds(1)),
            new SimpleMeterRegistry(),
            IntervalFunction.of(Duration.ofMillis(200)));
    controller.start();
  }

  @AfterEach
  void stop() {
    controller.close();
  }

  private static ConditionFactory eventually() {
    return MockCluster.eventually();
  }

  private Service create(String name) {
    return new MockCluster(client, NS).create(name);
  }

  private Service get(String name) {
    return new MockCluster(client, NS).get(name);
  }

  private static String ip(Service s) {
    List<io.fabric8.kubernetes.api.model.LoadBalancerIngress> in = StatusWriter.ingressOf(s);
    return in.isEmpty() ? null : in.get(0).getIp();
  }

  private static Optional<Condition> ready(Service s) {
    if (s.getStatus() == null || s.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return s.getStatus().getConditions().stream()
        .filter(c -> StatusWriter.TYPE.equals(c.getType()))
        .findFirst();
  }

  private List<Event> events(String name) {
    return new MockCluster(client, NS).events(name);
  }

  @Test
  @DisplayName("a load balancer deleted behind Ferry's back is back within one period")
  void deletedBalancerComesBack() {
    create("web");
    eventually().until(() -> ip(get("web")) != null);
    provider.loseBalancer(NS + "/web");
    eventually().until(() -> provider.balancer(NS + "/web").isPresent());
  }

  @Test
  @DisplayName("a status someone cleared is written again within one period")
  void clearedStatusRewritten() {
    create("web");
    eventually().until(() -> ip(get("web")) != null);
    String before = ip(get("web"));
    client
        .services()
        .inNamespace(NS)
        .withName("web")
        .editStatus(
            s ->
                new ServiceBuilder(s)
                    .editStatus()
                    .withNewLoadBalancer()
                    .endLoadBalancer()
                    .endStatus()
                    .build());
    assertThat(ip(get("web"))).isNull();
    eventually().until(() -> before.equals(ip(get("web"))));
  }

  @Test
  @DisplayName(
      "idle periods: only read-only checks, no ensure, backend or delete call, no new event, no"
          + " status write")
  void idleIsQuiet() {
    create("web");
    eventually().until(() -> ip(get("web")) != null);
    eventually().until(() -> events("web").size() == 1); // Ensured ("Ensuring" held and dropped)
    String resourceVersion = get("web").getMetadata().getResourceVersion();
    int ensures = provider.calls("ensure").size();
    eventually().until(() -> provider.calls("inStep").size() >= 3);
    assertThat(provider.calls("ensure")).hasSize(ensures);
    assertThat(provider.calls("updateBackends")).isEmpty();
    assertThat(provider.calls("ensureDeleted")).isEmpty();
    assertThat(events("web")).hasSize(1).allSatisfy(e -> assertThat(e.getCount()).isEqualTo(1));
    assertThat(get("web").getMetadata().getResourceVersion()).isEqualTo(resourceVersion);
  }

  @Test
  @DisplayName(
      "the condition says Provisioned with observedGeneration; another writer's condition stays")
  void conditionProvisioned() {
    create("web");
    eventually().until(() -> ready(get("web")).isPresent());
    Condition c = ready(get("web")).orElseThrow();
    assertThat(c.getStatus()).isEqualTo("True");
    assertThat(c.getReason()).isEqualTo("Provisioned");
    assertThat(c.getMessage()).contains(ip(get("web")));
    assertThat(c.getObservedGeneration()).isEqualTo(get("web").getMetadata().getGeneration());
    assertThat(c.getLastTransitionTime()).isNotBlank();

    client
        .services()
        .inNamespace(NS)
        .withName("web")
        .editStatus(
            s ->
                new ServiceBuilder(s)
                    .editStatus()
                    .addToConditions(
                        new ConditionBuilder()
                            .withType("example.com/Audited")
                            .withStatus("True")
                            .withReason("Checked")
                            .withMessage("ok")
                            .withLastTransitionTime("2026-01-01T00:00:00Z")
                            .build())
                    .endStatus()
                    .build());
    // drift found by the periodic check; the repair fails once, then succeeds
    provider.failNext(
        1, () -> new ProviderException.Transient("the cloud is down for a moment", null));
    provider.loseBalancer(NS + "/web");
    eventually()
        .until(
            () -> ready(get("web")).map(Condition::getReason).orElse(""), "ProviderError"::equals);
    assertThat(get("web").getStatus().getConditions())
        .extracting(Condition::getType)
        .contains("example.com/Audited");
    eventually()
        .until(() -> ready(get("web")).map(Condition::getReason).orElse(""), "Provisioned"::equals);
    assertThat(get("web").getStatus().getConditions())
        .extracting(Condition::getType)
        .contains("example.com/Audited");
  }

  @Test
  @DisplayName(
      "a port the provider could not make: its error in the status, condition PortError naming"
          + " it, ensured again with the key's backoff; Provisioned once the port is served")
  void portErrorShowsInTheCondition() {
    provider.portErrors(
        List.of(new LoadBalancerStatus.PortStatus(80, Protocol.TCP, "ferry.dev/BindFailed")));
    create("web");
    eventually()
        .until(() -> ready(get("web")).map(Condition::getReason).orElse(""), "PortError"::equals);
    Condition c = ready(get("web")).orElseThrow();
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getMessage())
        .contains(ip(get("web")))
        .contains("does not serve port 80/TCP (ferry.dev/BindFailed)");
    assertThat(StatusWriter.ingressOf(get("web")).getFirst().getPorts())
        .singleElement()
        .satisfies(p -> assertThat(p.getError()).isEqualTo("ferry.dev/BindFailed"));

    // tried again with the key's backoff (200 ms here), each time a full ensure
    int ensures = provider.calls("ensure").size();
    eventually().until(() -> provider.calls("ensure").size() >= ensures + 2);

    // the port is served again: the next retry finds it so
    provider.portErrors(List.of());
    eventually()
        .until(() -> ready(get("web")).map(Condition::getReason).orElse(""), "Provisioned"::equals);
    assertThat(StatusWriter.ingressOf(get("web")).getFirst().getPorts()).isNullOrEmpty();
  }

  @Test
  @DisplayName(
      "a Service the provider refuses: one Warning and one Ensuring event, however many periods"
          + " pass; condition InvalidService")
  void refusedOnce() {
    provider.failNext(
        1000, () -> new ProviderException.InvalidPlan("spec.loadBalancerIP", "outside the pool"));
    create("refused");
    eventually()
        .until(
            () -> ready(get("refused")).map(Condition::getReason).orElse(""),
            "InvalidService"::equals);
    int checks = provider.calls("ensure").size() + provider.calls("inStep").size();
    eventually()
        .until(
            () -> provider.calls("ensure").size() + provider.calls("inStep").size() >= checks + 3);
    assertThat(events("refused"))
        .extracting(Event::getReason)
        .containsExactlyInAnyOrder("EnsuringLoadBalancer", "SyncLoadBalancerFailed");
    assertThat(events("refused")).allSatisfy(e -> assertThat(e.getCount()).isEqualTo(1));
    assertThat(ready(get("refused")).orElseThrow().getMessage()).contains("spec.loadBalancerIP");
  }

  @Test
  @DisplayName(
      "the leak sweep deletes a load balancer no Service wants, after a grace period; one a"
          + " Service wants stays")
  void leakSweep() throws Exception {
    create("web");
    eventually().until(() -> ip(get("web")) != null);
    dev.ferry.spi.LoadBalancerPlan orphan = provider.balancer(NS + "/web").orElseThrow();
    provider.ensure(
        orphan.toBuilder()
            .ref(new dev.ferry.spi.LoadBalancerRef("test", NS, "gone", "uid-of-a-deleted-service"))
            .build());
    long start = System.nanoTime();
    await().atMost(Duration.ofSeconds(15)).until(() -> provider.balancer(NS + "/gone").isEmpty());
    // not at the first sweep that saw it: a grace period of one resync period
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofSeconds(1));
    assertThat(provider.balancer(NS + "/web")).isPresent();
  }
}
