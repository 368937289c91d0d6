package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.ProviderException;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.resilience4j.core.IntervalFunction;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The controller's side of the contract against a deliberately hostile provider: one that throws
 * from capabilities(), answers null, throws from the batched check and the leak sweep. Each is
 * reported on the Service, no worker dies, and the Service converges once the provider behaves.
 */
@EnableKubernetesMockClient(crud = true)
class HostileProviderTest {

  private static final String NS = "hostile";

  KubernetesClient client;
  private final RecordingProvider cloud = new RecordingProvider();
  private volatile boolean capabilitiesThrow;
  private volatile boolean ensureAnswersNull;
  private volatile boolean checksThrow;
  private FerryController controller;

  /** The recording provider behind misbehaviours a test switches on and off. */
  private final LoadBalancerProvider hostile =
      new LoadBalancerProvider() {
        @Override
        public Capabilities capabilities() {
          if (capabilitiesThrow) {
            throw new UnsupportedOperationException("capabilities are not implemented yet");
          }
          return cloud.capabilities();
        }

        @Override
        public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) {
          return cloud.find(ref);
        }

        @Override
        public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
          LoadBalancerStatus s = cloud.ensure(plan);
          return ensureAnswersNull ? null : s;
        }

        @Override
        public Map<LoadBalancerRef, LoadBalancerStatus> inStep(List<LoadBalancerPlan> plans) {
          if (checksThrow) {
            throw new IllegalStateException("the batched check is broken");
          }
          return cloud.inStep(plans);
        }

        @Override
        public void updateBackends(LoadBalancerRef ref, List<Backend> backends)
            throws ProviderException {
          cloud.updateBackends(ref, backends);
        }

        @Override
        public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
          cloud.ensureDeleted(ref);
        }

        @Override
        public List<LoadBalancerRef> listOwned(String clusterName) {
          throw new OutOfMemoryError("listOwned: simulated");
        }
      };

  @BeforeEach
  void start() {
    client.nodes().resource(ControllerComponentTest.node("node-1", "10.0.0.1").build()).create();
    controller =
        new FerryController(
            client,
            hostile,
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

  private MockCluster cluster() {
    return new MockCluster(client, NS);
  }

  private Service create(String name) {
    return cluster().create(name);
  }

  private String ip(String name) {
    return cluster().ip(name);
  }

  private List<String> warnings(String name) {
    return cluster().warnings(name).stream().map(Event::getMessage).toList();
  }

  @Test
  @DisplayName("capabilities() that throws: a Warning naming it, retried, served once it answers")
  void capabilitiesThrow() {
    capabilitiesThrow = true;
    create("caps");
    eventually().until(() -> !warnings("caps").isEmpty());
    assertThat(warnings("caps").get(0)).contains("capabilities", "not implemented yet");
    capabilitiesThrow = false;
    eventually().until(() -> ip("caps") != null);
  }

  @Test
  @DisplayName("ensure() that answers null: a Warning, retried, served once it answers")
  void nullStatus() {
    ensureAnswersNull = true;
    create("null");
    eventually().until(() -> !warnings("null").isEmpty());
    assertThat(warnings("null").get(0)).contains("returned no status");
    ensureAnswersNull = false;
    eventually().until(() -> ip("null") != null);
  }

  @Test
  @DisplayName(
      "a batched check that throws and a leak sweep that throws an Error: drift is still repaired"
          + " by ensure, and the controller keeps serving")
  void brokenChecksAndSweep() {
    create("drift");
    eventually().until(() -> ip("drift") != null);
    checksThrow = true;
    cloud.loseBalancer(NS + "/drift");
    eventually().until(() -> cloud.balancer(NS + "/drift").isPresent());
    create("after");
    eventually().until(() -> ip("after") != null);
  }
}
