package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SlimStoresTest {

  private static Node bulkyNode() {
    return new NodeBuilder()
        .withNewMetadata()
        .withName("node-1")
        .withUid("u1")
        .withResourceVersion("7")
        .withLabels(Map.of(NodeEligibility.ZONE_LABEL, "zone-a", "role", "web"))
        .withAnnotations(Map.of("volumes.kubernetes.io/controller-managed-attach-detach", "true"))
        .withManagedFields(new ManagedFieldsEntryBuilder().withManager("kubelet").build())
        .endMetadata()
        .withNewSpec()
        .withProviderID("aws:///eu-west-1a/i-1")
        .withTaints(new TaintBuilder().withKey(NodeEligibility.AUTOSCALER_TAINT).build())
        .withPodCIDR("10.244.0.0/24")
        .endSpec()
        .withNewStatus()
        .addNewAddress()
        .withType("InternalIP")
        .withAddress("10.0.0.1")
        .endAddress()
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .endCondition()
        .addNewImage()
        .withNames("registry.example/app:1")
        .withSizeBytes(1L << 30)
        .endImage()
        .withNewNodeInfo()
        .withKubeletVersion("v1.34.4")
        .endNodeInfo()
        .endStatus()
        .build();
  }

  @Test
  @DisplayName("a cached Node keeps what eligibility and backends read, and nothing else")
  void node() {
    Node full = bulkyNode();
    Node slim = SlimStores.slim(full);
    assertThat(NodeEligibility.isEligible(slim)).isEqualTo(NodeEligibility.isEligible(full));
    assertThat(NodeEligibility.toBackend(slim)).isEqualTo(NodeEligibility.toBackend(full));
    assertThat(slim.getMetadata().getLabels()).isEqualTo(full.getMetadata().getLabels());
    assertThat(slim.getMetadata().getResourceVersion()).isEqualTo("7");
    assertThat(slim.getMetadata().getManagedFields()).isEmpty();
    assertThat(slim.getMetadata().getAnnotations()).isEmpty();
    assertThat(slim.getStatus().getImages()).isEmpty();
    assertThat(slim.getStatus().getConditions()).isEmpty();
    assertThat(slim.getStatus().getNodeInfo()).isNull();
    assertThat(slim.getSpec().getPodCIDR()).isNull();
    assertThat(full.getStatus().getImages()).hasSize(1); // the informer's object is not changed
  }

  @Test
  @DisplayName(
      "a cached Service loses its managedFields only (Ferry patches whole annotation maps)")
  void service() {
    Service s =
        new ServiceBuilder()
            .withNewMetadata()
            .withName("web")
            .withAnnotations(Map.of("kubectl.kubernetes.io/last-applied-configuration", "{}"))
            .withManagedFields(new ManagedFieldsEntryBuilder().withManager("kubectl").build())
            .endMetadata()
            .withNewSpec()
            .withType("LoadBalancer")
            .endSpec()
            .build();
    Service slim = SlimStores.slim(s);
    assertThat(slim.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(slim.getMetadata().getAnnotations())
        .containsKey("kubectl.kubernetes.io/last-applied-configuration");
    assertThat(slim.getSpec().getType()).isEqualTo("LoadBalancer");
  }

  @Test
  @DisplayName(
      "a cached Service's model objects share one empty map of unknown fields; one with unknown"
          + " fields keeps them, and copies and serialization are unchanged")
  void sharedEmptyUnknownFields() {
    String json =
        """
        {"apiVersion":"v1","kind":"Service",
         "metadata":{"name":"web","namespace":"default","resourceVersion":"5"},
         "spec":{"type":"LoadBalancer","futureField":"kept",
                 "ports":[{"port":80,"protocol":"TCP","nodePort":30080}]},
         "status":{"conditions":[{"type":"x","status":"True","reason":"R","message":"m",
                                  "lastTransitionTime":"2026-01-01T00:00:00Z"}],
                   "loadBalancer":{"ingress":[{"ip":"192.0.2.1","ipMode":"VIP",
                                               "ports":[{"port":80,"protocol":"TCP"}]}]}}}
        """;
    Service read = Serialization.unmarshal(json, Service.class);
    Service slim = SlimStores.slim(Serialization.unmarshal(json, Service.class));

    Map<String, Object> none = Map.of();
    assertThat(slim.getAdditionalProperties()).isSameAs(none);
    assertThat(slim.getMetadata().getAdditionalProperties()).isSameAs(none);
    assertThat(slim.getSpec().getPorts().get(0).getAdditionalProperties()).isSameAs(none);
    assertThat(slim.getStatus().getAdditionalProperties()).isSameAs(none);
    assertThat(slim.getStatus().getConditions().get(0).getAdditionalProperties()).isSameAs(none);
    var ingress = slim.getStatus().getLoadBalancer().getIngress().get(0);
    assertThat(ingress.getAdditionalProperties()).isSameAs(none);
    assertThat(ingress.getPorts().get(0).getAdditionalProperties()).isSameAs(none);
    assertThat(slim.getSpec().getAdditionalProperties()).containsEntry("futureField", "kept");

    read.getMetadata().setManagedFields(null); // what slimming drops on purpose
    assertThat(slim).isEqualTo(read);
    assertThat(Serialization.asJson(slim)).isEqualTo(Serialization.asJson(read));
    // a builder copy (how Ferry derives what it writes) gets maps of its own
    Service copy = new ServiceBuilder(slim).build();
    copy.getStatus().setAdditionalProperty("more", 1);
    assertThat(slim.getStatus().getAdditionalProperties()).isEmpty();
  }

  @Test
  @DisplayName("a cached Node shares the empty map of unknown fields too")
  void nodeSharedEmptyUnknownFields() {
    Node slim = SlimStores.slim(bulkyNode());
    Map<String, Object> none = Map.of();
    assertThat(slim.getAdditionalProperties()).isSameAs(none);
    assertThat(slim.getMetadata().getAdditionalProperties()).isSameAs(none);
    assertThat(slim.getSpec().getTaints().get(0).getAdditionalProperties()).isSameAs(none);
    assertThat(slim.getStatus().getAddresses().get(0).getAdditionalProperties()).isSameAs(none);
    assertThat(NodeEligibility.toBackend(slim)).isEqualTo(NodeEligibility.toBackend(bulkyNode()));
  }
}
