package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ferry's writes to a Service, as JSON patches so the RBAC needs only {@code patch}. Those to the
 * main resource carry the resourceVersion the change was computed from: the API server refuses them
 * with 409 when the Service changed meanwhile, and the reconcile reads it again.
 */
final class ServicePatches {

  private static final String JSON_PATCH = "application/json-patch+json";

  private final ApiWrites api;

  ServicePatches(KubernetesClient client) {
    this.api = new ApiWrites(client);
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
    return parse(send(service, "", ops));
  }

  Service parse(String json) {
    return api.json().unmarshal(json, Service.class);
  }

  /**
   * Sends a JSON patch to the Service ({@code subresource} empty) or one of its subresources, after
   * a first operation that sets the resourceVersion {@code service} was read at; answers the
   * Service as stored, as JSON. A refusal (409, 422, ...) is a {@link
   * io.fabric8.kubernetes.client.KubernetesClientException} with its code.
   */
  String send(Service service, String subresource, List<Map<String, Object>> ops) {
    List<Map<String, Object>> all = new ArrayList<>();
    all.add(op("replace", "/metadata/resourceVersion", service.getMetadata().getResourceVersion()));
    all.addAll(ops);
    String path =
        "api/v1/namespaces/"
            + service.getMetadata().getNamespace()
            + "/services/"
            + service.getMetadata().getName()
            + (subresource.isEmpty() ? "" : "/" + subresource);
    return api.bodyOf(api.send("PATCH", path, JSON_PATCH, all));
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
