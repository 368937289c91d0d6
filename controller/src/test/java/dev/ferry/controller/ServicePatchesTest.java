package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Ferry's Service writes: exact lists, and a stale copy refused with 409. */
@EnableKubernetesMockClient(crud = true)
class ServicePatchesTest {
  KubernetesClient client;

  @Test
  @DisplayName(
      "ports are replaced exactly, finalizers and annotations set, each against the resourceVersion read")
  void patches() {
    Service s =
        client
            .services()
            .inNamespace("shop")
            .resource(ControllerComponentTest.lb("web").build())
            .create();
    ServicePatches p = new ServicePatches(client);
    Service withFinalizer =
        p.ownership(
            s, List.of(ServiceClassifier.FINALIZER), Map.of(ServiceClassifier.OWNER, "ns/lease"));
    assertThat(withFinalizer.getMetadata().getFinalizers())
        .containsExactly(ServiceClassifier.FINALIZER);
    assertThat(withFinalizer.getMetadata().getAnnotations())
        .containsExactly(Map.entry(ServiceClassifier.OWNER, "ns/lease"));
    // the answer is the Service as stored, though only its resourceVersion was read from it
    assertThat(withFinalizer)
        .isEqualTo(client.services().inNamespace("shop").withName("web").get());
    assertThat(withFinalizer.getMetadata().getResourceVersion())
        .isNotEqualTo(s.getMetadata().getResourceVersion());

    s.getSpec().getPorts().get(0).setNodePort(30001);
    Service withPorts = p.ports(withFinalizer, s.getSpec().getPorts(), 30002);
    Service stored = client.services().inNamespace("shop").withName("web").get();
    assertThat(stored.getSpec().getPorts())
        .singleElement()
        .satisfies(port -> assertThat(port.getNodePort()).isEqualTo(30001));
    assertThat(stored.getSpec().getHealthCheckNodePort()).isEqualTo(30002);
    assertThat(withPorts.getMetadata().getResourceVersion())
        .isEqualTo(stored.getMetadata().getResourceVersion());

    // the copy read before the last write is stale: refused, nothing changed
    assertThatThrownBy(() -> p.ownership(withFinalizer, List.of(), Map.of()))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
    assertThat(
            client
                .services()
                .inNamespace("shop")
                .withName("web")
                .get()
                .getMetadata()
                .getFinalizers())
        .containsExactly(ServiceClassifier.FINALIZER);
  }

  @Test
  @DisplayName("the resourceVersion is read from metadata only, wherever metadata stands")
  void resourceVersionOf() {
    assertThat(
            ServicePatches.resourceVersionOf(
                "{\"kind\":\"Service\",\"spec\":{\"resourceVersion\":\"1\",\"x\":[{}]},"
                    + "\"metadata\":{\"name\":\"web\",\"labels\":{\"resourceVersion\":\"2\"},"
                    + "\"resourceVersion\":\"3\"},\"status\":{}}"))
        .isEqualTo("3");
    assertThat(ServicePatches.resourceVersionOf("{\"kind\":\"Service\",\"metadata\":{}}")).isNull();
    assertThat(ServicePatches.resourceVersionOf("{\"kind\":\"Status\",\"code\":409}")).isNull();
    assertThat(ServicePatches.resourceVersionOf("[]")).isNull();
    assertThat(ServicePatches.resourceVersionOf("{\"metadata\":{\"name\":")).isNull();
  }
}
