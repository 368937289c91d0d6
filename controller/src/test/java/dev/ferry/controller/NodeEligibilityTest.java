package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.Backend;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class NodeEligibilityTest {

  static NodeBuilder node(String name) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels(NodeEligibility.ZONE_LABEL, "z1")
        .endMetadata()
        .withNewSpec()
        .withProviderID("local://" + name)
        .endSpec()
        .withNewStatus()
        .addNewAddress()
        .withType("Hostname")
        .withAddress(name)
        .endAddress()
        .addNewAddress()
        .withType("InternalIP")
        .withAddress("10.0.0.1")
        .endAddress()
        .addNewCondition()
        .withType("Ready")
        .withStatus("False")
        .endCondition()
        .endStatus();
  }

  @Test
  @DisplayName("a node that is not Ready still carries traffic; health checks decide")
  void readinessDoesNotCount() {
    assertThat(NodeEligibility.isEligible(node("a").build())).isTrue();
  }

  @Test
  @DisplayName("the exclude label excludes unless it says false; an empty value excludes")
  void excludeLabel() {
    Node excluded =
        node("a")
            .editMetadata()
            .addToLabels(NodeEligibility.EXCLUDE_LABEL, "true")
            .endMetadata()
            .build();
    Node empty =
        node("a")
            .editMetadata()
            .addToLabels(NodeEligibility.EXCLUDE_LABEL, "")
            .endMetadata()
            .build();
    Node notExcluded =
        node("a")
            .editMetadata()
            .addToLabels(NodeEligibility.EXCLUDE_LABEL, "false")
            .endMetadata()
            .build();
    assertThat(NodeEligibility.isEligible(excluded)).isFalse();
    assertThat(NodeEligibility.isEligible(empty)).isFalse();
    assertThat(NodeEligibility.isEligible(notExcluded)).isTrue();
  }

  @Test
  @DisplayName("a node being deleted or tainted by the cluster autoscaler is out")
  void deletingOrAutoscaled() {
    Node deleting =
        node("a")
            .editMetadata()
            .withDeletionTimestamp("2026-01-01T00:00:00Z")
            .endMetadata()
            .build();
    Node tainted =
        node("a")
            .editSpec()
            .addNewTaint()
            .withKey(NodeEligibility.AUTOSCALER_TAINT)
            .withEffect("NoSchedule")
            .endTaint()
            .endSpec()
            .build();
    assertThat(NodeEligibility.isEligible(deleting)).isFalse();
    assertThat(NodeEligibility.isEligible(tainted)).isFalse();
  }

  @Test
  @DisplayName("backends carry name, providerID, InternalIP and zone, sorted by name")
  void backends() {
    List<Backend> backends =
        NodeEligibility.eligibleBackends(List.of(node("b").build(), node("a").build()));
    assertThat(backends)
        .containsExactly(
            new Backend("a", "local://a", "10.0.0.1", "z1"),
            new Backend("b", "local://b", "10.0.0.1", "z1"));
  }
}
