package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Watch events read once give what the model's own two-pass reading gives; the one-pass way is
 * taken where it can be, and only there.
 */
class WatchObjectsTest {

  private static final String SERVICE_BODY =
      """
      "metadata":{"name":"web","namespace":"shop","uid":"u-1","resourceVersion":"42",
        "finalizers":["ferry.dev/load-balancer"],
        "annotations":{"a":"b"},
        "managedFields":[{"manager":"kubectl","operation":"Update","apiVersion":"v1",
          "fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:ports":{}}}}]},
      "spec":{"type":"LoadBalancer","ports":[{"name":"http","protocol":"TCP","port":80,
        "targetPort":8080,"nodePort":30080}],"selector":{"app":"web"},
        "externalTrafficPolicy":"Local","healthCheckNodePort":31000},
      "status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.7"}]},
        "conditions":[{"type":"ferry.dev/LoadBalancerReady","status":"True",
          "reason":"Provisioned","message":"ok","lastTransitionTime":"2026-11-23T00:00:00Z"}]}
      """;

  private final KubernetesSerialization once = KubeClients.serialization();
  private final KubernetesSerialization model = new KubernetesSerialization();

  private void sameAsModel(String event, Class<?> kind, boolean onePass) {
    long before = WatchObjects.onePass.sum();
    WatchEvent mine = once.unmarshal(event, WatchEvent.class);
    assertThat(WatchObjects.onePass.sum() - before).isEqualTo(onePass ? 1 : 0);
    WatchEvent theirs = model.unmarshal(event, WatchEvent.class);
    // Ferry's reading leaves out managedFields (KubeClients.serialization); all else is the same
    HasMetadata object = (HasMetadata) theirs.getObject();
    assertThat(((HasMetadata) mine.getObject()).getMetadata().getManagedFields()).isEmpty();
    object.getMetadata().setManagedFields(List.of());
    assertThat(mine.getObject()).isInstanceOf(kind).isEqualTo(object);
    assertThat(mine.getType()).isEqualTo("MODIFIED").isEqualTo(theirs.getType());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "\"kind\":\"Service\",\"apiVersion\":\"v1\",",
        "\"apiVersion\":\"v1\",\"kind\":\"Service\","
      })
  @DisplayName("a Service, kind and apiVersion first in either order, the event's type after it")
  void service(String head) {
    sameAsModel(
        "{\"object\":{" + head + SERVICE_BODY + "},\"type\":\"MODIFIED\"}", Service.class, true);
  }

  @Test
  @DisplayName("kind after other fields: the model's way, same result")
  void kindLater() {
    sameAsModel(
        "{\"type\":\"MODIFIED\",\"object\":{\"apiVersion\":\"v1\","
            + SERVICE_BODY
            + ",\"kind\":\"Service\"}}",
        Service.class,
        false);
  }

  @Test
  @DisplayName("a Node")
  void node() {
    sameAsModel(
        """
        {"type":"MODIFIED","object":{"kind":"Node","apiVersion":"v1",
          "metadata":{"name":"n1","labels":{"zone":"a"}},
          "status":{"conditions":[{"type":"Ready","status":"True"}],
            "addresses":[{"type":"InternalIP","address":"10.0.0.1"}]}}}
        """,
        Node.class,
        true);
  }

  @Test
  @DisplayName("a kind the model does not know: a generic resource, as the model reads it")
  void unknownKind() {
    sameAsModel(
        """
        {"object":{"kind":"Widget","apiVersion":"example.com/v1",
          "metadata":{"name":"w"},"spec":{"size":3}},"type":"MODIFIED"}
        """,
        GenericKubernetesResource.class,
        false);
  }
}
