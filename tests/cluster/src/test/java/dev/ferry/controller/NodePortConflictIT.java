package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The NodePort retry path against the real API server: Ferry's allocator does not know a port
 * another Service holds (as after a race), picks it, the API server answers 422 "provided port is
 * already allocated", and Ferry marks it taken and picks another.
 */
class NodePortConflictIT {

  @Test
  @DisplayName(
      "a port the API server says another Service holds is marked taken and another is picked")
  void rejectedPortIsRetried() throws Exception {
    var api = dev.ferry.cluster.ClusterApi.admin();
    try (KubernetesClient admin = new KubernetesClientBuilder().withConfig(api).build()) {
      admin
          .services()
          .inNamespace("default")
          .resource(
              new ServiceBuilder()
                  .withNewMetadata()
                  .withName("holder")
                  .endMetadata()
                  .withNewSpec()
                  .withType("NodePort")
                  .addNewPort()
                  .withPort(80)
                  .withProtocol("TCP")
                  .withNodePort(30500)
                  .endPort()
                  .endSpec()
                  .build())
          .create();
      Service claimant =
          admin
              .services()
              .inNamespace("default")
              .resource(
                  new ServiceBuilder()
                      .withNewMetadata()
                      .withName("claimant")
                      .endMetadata()
                      .withNewSpec()
                      .withType("LoadBalancer")
                      .withAllocateLoadBalancerNodePorts(false)
                      .addNewPort()
                      .withPort(80)
                      .withProtocol("TCP")
                      .endPort()
                      .endSpec()
                      .build())
              .create();

      NodePortAllocator allocator =
          new NodePortAllocator(new PortRange(30500, 30510)); // has not seen "holder"
      NodePortAssigner.Result result = new NodePortAssigner(admin, allocator).assign(claimant);

      assertThat(result).isInstanceOf(NodePortAssigner.Assigned.class);
      Service stored = ((NodePortAssigner.Assigned) result).service();
      assertThat(stored.getSpec().getPorts().get(0).getNodePort()).isEqualTo(30501);
      assertThat(allocator.isAllocated(30500)).isTrue();
      assertThat(allocator.ownerOf(30500)).isNull();
      assertThat(
              admin
                  .services()
                  .inNamespace("default")
                  .withName("claimant")
                  .get()
                  .getSpec()
                  .getPorts())
          .extracting(p -> p.getNodePort())
          .isEqualTo(List.of(30501));
      admin.services().inNamespace("default").withName("holder").delete();
      admin.services().inNamespace("default").withName("claimant").delete();
    }
  }
}
