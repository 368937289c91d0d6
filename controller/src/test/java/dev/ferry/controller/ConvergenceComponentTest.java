package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.ProviderException;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.resilience4j.core.IntervalFunction;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * No Service gets stuck and no worker dies, whatever the provider does: each case is one way a
 * Service used to stay without an address, or a worker used to stop for good.
 */
@EnableKubernetesMockClient(crud = true)
class ConvergenceComponentTest {

  private static final String NS = "conv";

  KubernetesClient client;
  private RecordingProvider provider;
  private FerryController controller;

  private void start(ControllerSettings settings) {
    for (int i = 1; i <= 2; i++) {
      client
          .nodes()
          .resource(ControllerComponentTest.node("node-" + i, "10.0.0." + i).build())
          .create();
    }
    provider = new RecordingProvider();
    controller =
        new FerryController(
            client,
            provider,
            settings,
            new SimpleMeterRegistry(),
            IntervalFunction.of(Duration.ofMillis(200)));
    controller.start();
  }

  private void start() {
    start(ControllerSettings.defaults("test").withNodeSyncDelay(Duration.ofMillis(50)));
  }

  @AfterEach
  void stop() {
    if (controller != null) {
      controller.close();
    }
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

  private List<Event> warnings(String name) {
    return new MockCluster(client, NS).warnings(name);
  }

  @Nested
  @DisplayName("No stuck Service")
  class NoStuckService {

    @Test
    @DisplayName("updateBackends on a load balancer deleted out of band falls back to ensure")
    void lostBalancerIsRebuilt() {
      start();
      create("web");
      eventually().until(() -> ip(get("web")) != null);
      provider.loseBalancer(NS + "/web");
      client.nodes().resource(ControllerComponentTest.node("node-3", "10.0.0.3").build()).create();
      eventually()
          .until(() -> provider.balancer(NS + "/web").map(p -> p.backends().size()).orElse(0) == 3);
      assertThat(provider.calls("ensure")).hasSizeGreaterThanOrEqualTo(2);
    }

    @Test
    @DisplayName("a status with no address yet is checked again until the address is there")
    void addressArrivesLater() {
      start();
      provider.withholdAddress(3);
      create("slow-ip");
      eventually().until(() -> ip(get("slow-ip")) != null);
      // the load balancer was made once; later looks were read-only
      assertThat(provider.calls("ensure")).hasSize(1);
      assertThat(provider.calls("find")).isNotEmpty();
    }

    @Test
    @DisplayName(
        "a cloud error an operator fixes (quota) is retried with a Warning until it passes, without a Service change")
    void operatorFixableErrorIsRetried() {
      start();
      provider.failNext(
          3, () -> new ProviderException.QuotaExceeded("TooManyLoadBalancers: limit 50", null));
      create("quota");
      eventually().until(() -> ip(get("quota")) != null);
      assertThat(warnings("quota"))
          .singleElement()
          .satisfies(e -> assertThat(e.getMessage()).contains("TooManyLoadBalancers"));
    }

    @Test
    @DisplayName("a cleanup that fails with any error class is retried until the Service is gone")
    void cleanupIsRetried() {
      start();
      create("doomed");
      eventually().until(() -> ip(get("doomed")) != null);
      provider.failNext(
          2,
          () ->
              new ProviderException.InvalidPlan(
                  "metadata.annotations", "the cloud refuses to delete this"));
      client.services().inNamespace(NS).withName("doomed").delete();
      eventually().until(() -> get("doomed") == null);
      assertThat(provider.balancer(NS + "/doomed")).isEmpty();
      assertThat(provider.calls("ensureDeleted")).hasSize(3);
    }
  }

  @Nested
  @DisplayName("Workers that cannot die")
  class WorkersCannotDie {

    @Test
    @DisplayName(
        "an Error thrown by the provider is reported and backed off; the Service converges")
    void errorFromProvider() {
      start();
      provider.failNext(2, () -> new NoClassDefFoundError("com/example/MissingFromPlugin"));
      create("broken");
      eventually().until(() -> ip(get("broken")) != null);
      assertThat(warnings("broken"))
          .singleElement()
          .satisfies(e -> assertThat(e.getMessage()).contains("NoClassDefFoundError"));
      // the workers still run: another Service is served too
      create("after");
      eventually().until(() -> ip(get("after")) != null);
    }

    @Test
    @DisplayName(
        "a hung provider call is abandoned at the deadline and reported; the worker moves on")
    void hungCallAbandoned() {
      start(
          ControllerSettings.defaults("test")
              .withWorkers(1)
              .withProviderTimeout(Duration.ofMillis(500)));
      CountDownLatch release = provider.hang(NS + "/stuck");
      create("stuck");
      eventually().until(() -> !warnings("stuck").isEmpty());
      assertThat(warnings("stuck").get(0).getMessage()).contains("deadline", "ensure");
      // the only worker is free again
      create("next");
      eventually().until(() -> ip(get("next")) != null);
      assertThat(ip(get("stuck"))).isNull();
      // the cloud answers again: the Service converges with no change to it
      release.countDown();
      eventually().until(() -> ip(get("stuck")) != null);
    }
  }

  @Nested
  @DisplayName("NodePorts as the API server gives them")
  class NodePorts {

    @Test
    @DisplayName("a port dropped from a Service is free at once for another Service")
    void droppedPortFreed() {
      start();
      Service first =
          client
              .services()
              .inNamespace(NS)
              .resource(
                  ControllerComponentTest.lb("two")
                      .editMetadata()
                      .withNamespace(NS)
                      .endMetadata()
                      .editSpec()
                      .addNewPort()
                      .withName("extra")
                      .withPort(81)
                      .withProtocol("TCP")
                      .endPort()
                      .endSpec()
                      .build())
              .create();
      eventually().until(() -> ip(get("two")) != null);
      int dropped = get("two").getSpec().getPorts().get(1).getNodePort();
      client
          .services()
          .inNamespace(NS)
          .withName("two")
          .edit(
              s ->
                  new ServiceBuilder(s)
                      .editSpec()
                      .withPorts(s.getSpec().getPorts().get(0))
                      .endSpec()
                      .build());
      eventually()
          .until(() -> provider.balancer(NS + "/two").orElseThrow().listeners().size() == 1);
      assertThat(first).isNotNull();
      client
          .services()
          .inNamespace(NS)
          .resource(
              ControllerComponentTest.lb("taker")
                  .editMetadata()
                  .withNamespace(NS)
                  .endMetadata()
                  .editSpec()
                  .editFirstPort()
                  .withNodePort(dropped)
                  .endPort()
                  .endSpec()
                  .build())
          .create();
      eventually().until(() -> ip(get("taker")) != null);
      assertThat(warnings("taker")).isEmpty();
    }

    @Test
    @DisplayName(
        "a Service that stops being LoadBalancer frees its ports; another Service takes one with no Warning")
    void typeChangeFreesPorts() {
      start();
      create("x");
      eventually().until(() -> ip(get("x")) != null);
      int port = get("x").getSpec().getPorts().get(0).getNodePort();
      client
          .services()
          .inNamespace(NS)
          .withName("x")
          .edit(
              s ->
                  new ServiceBuilder(s)
                      .editSpec()
                      .withType("ClusterIP")
                      .editFirstPort()
                      .withNodePort(null)
                      .endPort()
                      .endSpec()
                      .build());
      client
          .services()
          .inNamespace(NS)
          .resource(
              ControllerComponentTest.lb("y")
                  .editMetadata()
                  .withNamespace(NS)
                  .endMetadata()
                  .editSpec()
                  .editFirstPort()
                  .withNodePort(port)
                  .endPort()
                  .endSpec()
                  .build())
          .create();
      eventually().until(() -> ip(get("y")) != null);
      assertThat(provider.balancer(NS + "/y").orElseThrow().listeners().get(0).nodePort())
          .isEqualTo(port);
      assertThat(warnings("y")).isEmpty();
    }

    @Test
    @DisplayName("a real conflict is checked again when the holder lets the port go")
    void conflictRecheckedWhenHolderChanges() {
      start();
      create("holder");
      eventually().until(() -> ip(get("holder")) != null);
      int port = get("holder").getSpec().getPorts().get(0).getNodePort();
      // the mock API server does not check NodePorts, so a second Service can claim the same one
      client
          .services()
          .inNamespace(NS)
          .resource(
              ControllerComponentTest.lb("claimant")
                  .editMetadata()
                  .withNamespace(NS)
                  .endMetadata()
                  .editSpec()
                  .editFirstPort()
                  .withNodePort(port)
                  .endPort()
                  .endSpec()
                  .build())
          .create();
      eventually().until(() -> !warnings("claimant").isEmpty());
      client.services().inNamespace(NS).withName("holder").delete();
      eventually().until(() -> ip(get("claimant")) != null);
    }

    @Test
    @DisplayName("TCP and UDP on one port number get one NodePort, as the API server gives them")
    void mixedProtocolsShareNodePort() {
      start();
      client
          .services()
          .inNamespace(NS)
          .resource(
              ControllerComponentTest.lb("dns")
                  .editMetadata()
                  .withNamespace(NS)
                  .endMetadata()
                  .editSpec()
                  .withAllocateLoadBalancerNodePorts(false)
                  .editFirstPort()
                  .withName("dns-tcp")
                  .withPort(53)
                  .endPort()
                  .addNewPort()
                  .withName("dns-udp")
                  .withPort(53)
                  .withProtocol("UDP")
                  .endPort()
                  .endSpec()
                  .build())
          .create();
      eventually().until(() -> ip(get("dns")) != null);
      Service s = get("dns");
      assertThat(s.getSpec().getPorts().get(0).getNodePort())
          .isNotNull()
          .isEqualTo(s.getSpec().getPorts().get(1).getNodePort());
    }
  }
}
