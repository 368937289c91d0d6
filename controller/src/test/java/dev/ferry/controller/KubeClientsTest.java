package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Where the clients Ferry builds run their informers' callbacks. */
@EnableKubernetesMockClient(crud = true)
class KubeClientsTest {

  KubernetesClient client; // the mock server's own client, for the writes

  /** Each callback: the thread's name and whether it was virtual. */
  private final List<String> calls = new CopyOnWriteArrayList<>();

  @Test
  @DisplayName(
      "informer callbacks run on virtual threads, and a closed client leaves the next one working")
  void callbacksOnVirtualThreads() {
    try (KubernetesClient first =
        KubeClients.build(new ConfigBuilder(client.getConfiguration()).build())) {
      watch(first, "a");
    }
    // the executor is shared by every client Ferry builds: closing one must not shut it down
    try (KubernetesClient second =
        KubeClients.build(new ConfigBuilder(client.getConfiguration()).build())) {
      watch(second, "b");
    }
    assertThat(calls)
        .hasSizeGreaterThanOrEqualTo(3) // a; then a (listed) and b
        .allSatisfy(call -> assertThat(call).startsWith("virtual ferry-client-"));
  }

  private void watch(KubernetesClient ferry, String name) {
    int before = calls.size();
    SharedIndexInformer<Service> informer =
        ferry.services().inNamespace("shop").inform(new Recorder());
    try {
      client.services().inNamespace("shop").resource(service(name)).create();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> informer.getStore().getByKey("shop/" + name) != null);
      await().atMost(Duration.ofSeconds(10)).until(() -> calls.size() > before);
    } finally {
      informer.close();
    }
  }

  private final class Recorder implements ResourceEventHandler<Service> {
    private void record() {
      Thread t = Thread.currentThread();
      calls.add((t.isVirtual() ? "virtual " : "platform ") + t.getName());
    }

    @Override
    public void onAdd(Service service) {
      record();
    }

    @Override
    public void onUpdate(Service old, Service service) {
      record();
    }

    @Override
    public void onDelete(Service service, boolean finalStateUnknown) {
      record();
    }
  }

  private static Service service(String name) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("shop")
        .endMetadata()
        .withNewSpec()
        .withType("ClusterIP")
        .endSpec()
        .build();
  }
}
