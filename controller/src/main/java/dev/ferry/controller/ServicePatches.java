package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ferry's writes to a Service, as JSON merge patches so the RBAC needs only {@code patch}. Those to
 * the main resource carry the resourceVersion the change was computed from: the API server refuses
 * them with 409 when the Service changed meanwhile, and the reconcile reads it again.
 */
final class ServicePatches {

  private static final PatchContext MERGE = PatchContext.of(PatchType.JSON_MERGE);
  private static final PatchContext JSON = PatchContext.of(PatchType.JSON);

  private final KubernetesClient client;

  ServicePatches(KubernetesClient client) {
    this.client = client;
  }

  /**
   * Sets the finalizers and the annotations at once (both whole, under the resourceVersion
   * precondition, so nobody else's change in between is lost: that is a 409).
   */
  Service ownership(Service service, List<String> finalizers, Map<String, String> annotations) {
    return patch(
        service,
        List.of(
            op("add", "/metadata/finalizers", finalizers),
            op("add", "/metadata/annotations", annotations)));
  }

  Service ports(Service service, List<ServicePort> ports, Integer healthCheckNodePort) {
    List<Map<String, Object>> ops = new ArrayList<>();
    ops.add(op("replace", "/spec/ports", ports));
    if (healthCheckNodePort != null) {
      ops.add(op("add", "/spec/healthCheckNodePort", healthCheckNodePort));
    }
    return patch(service, ops);
  }

  /**
   * A JSON patch that also sets the resourceVersion the change was computed from: the API server
   * takes it as a precondition and answers 409 when the Service has moved on.
   */
  private Service patch(Service service, List<Map<String, Object>> ops) {
    List<Map<String, Object>> all = new ArrayList<>();
    all.add(op("replace", "/metadata/resourceVersion", service.getMetadata().getResourceVersion()));
    all.addAll(ops);
    return client
        .services()
        .inNamespace(service.getMetadata().getNamespace())
        .resource(service) // names the object: no GET before the patch (withName would GET)
        .patch(JSON, Serialization.asJson(all));
  }

  /** One JSON-patch operation. */
  static Map<String, Object> op(String op, String path, Object value) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("op", op);
    m.put("path", path);
    m.put("value", value);
    return m;
  }
}
