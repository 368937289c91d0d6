package dev.ferry.controller;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import org.awaitility.core.ConditionFactory;

/** What the component tests do with the mock API server, in one place. */
record MockCluster(KubernetesClient client, String namespace) {

  static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50));
  }

  /** A LoadBalancer Service with one TCP port, as {@link ControllerComponentTest#lb} makes it. */
  Service create(String name) {
    return client
        .services()
        .inNamespace(namespace)
        .resource(
            ControllerComponentTest.lb(name)
                .editMetadata()
                .withNamespace(namespace)
                .endMetadata()
                .build())
        .create();
  }

  Service get(String name) {
    return client.services().inNamespace(namespace).withName(name).get();
  }

  /** The first ingress IP of the Service, or null. */
  String ip(String name) {
    List<LoadBalancerIngress> in = StatusWriter.ingressOf(get(name));
    return in.isEmpty() ? null : in.get(0).getIp();
  }

  List<Event> events(String name) {
    return client.v1().events().inNamespace(namespace).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  List<Event> warnings(String name) {
    return events(name).stream().filter(e -> "Warning".equals(e.getType())).toList();
  }
}
