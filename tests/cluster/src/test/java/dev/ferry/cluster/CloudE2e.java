package dev.ferry.cluster;

import dev.ferry.controller.ControllerProcess;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** What the cloud providers' end-to-end tests share: Nodes, a Service's address, metrics. */
final class CloudE2e {

  private CloudE2e() {}

  /** A Node with a providerID (or none) and an InternalIP on loopback. */
  static void node(KubernetesClient admin, String name, String providerId, String address) {
    Node node =
        new NodeBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withNewSpec()
            .withProviderID(providerId)
            .endSpec()
            .withNewStatus()
            .addNewAddress()
            .withType("InternalIP")
            .withAddress(address) // loopback: no test ever sends traffic beyond this machine
            .endAddress()
            .endStatus()
            .build();
    admin.nodes().resource(node).create();
  }

  /** The Service's first ingress, or null while it has none. */
  static LoadBalancerIngress ingress(KubernetesClient admin, String namespace, String name) {
    Service s = admin.services().inNamespace(namespace).withName(name).get();
    if (s == null
        || s.getStatus() == null
        || s.getStatus().getLoadBalancer() == null
        || s.getStatus().getLoadBalancer().getIngress() == null
        || s.getStatus().getLoadBalancer().getIngress().isEmpty()) {
      return null;
    }
    return s.getStatus().getLoadBalancer().getIngress().get(0);
  }

  /** The controller's {@code /metrics} text. */
  static String metrics(ControllerProcess controller) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + controller.metricsPort() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /**
   * Confirms the adoption the Service's {@code AdoptionPending} event {@code message} previews: its
   * digest into {@code ferry.dev/adopt-confirm}, as a user would copy it.
   */
  static void confirmAdoption(
      KubernetesClient admin, String namespace, String name, String message) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("ferry.dev/adopt-confirm: \"([0-9a-f]{16})\"")
            .matcher(message);
    org.assertj.core.api.Assertions.assertThat(m.find()).as(message).isTrue();
    admin
        .services()
        .inNamespace(namespace)
        .withName(name)
        .edit(
            x ->
                new io.fabric8.kubernetes.api.model.ServiceBuilder(x)
                    .editMetadata()
                    .addToAnnotations("ferry.dev/adopt-confirm", m.group(1))
                    .endMetadata()
                    .build());
  }
}
