package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.TaintBuilder;
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
}
