package dev.ferry.controller;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
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

  private static final JsonFactory JSON = new JsonFactory();

  private final ApiWrites api;

  ServicePatches(KubernetesClient client) {
    this.api = new ApiWrites(client);
  }

  /**
   * Sets the finalizers and the annotations at once (both whole, under the resourceVersion
   * precondition, so nobody else's change in between is lost: that is a 409), and answers the
   * Service as stored.
   *
   * <p>The precondition makes the stored Service {@code service} with exactly these two fields
   * changed, so the answer is that: {@code service}'s spec and status, its metadata with the two
   * fields and the answer's resourceVersion, read from the answer's head without parsing the rest
   * (a whole Service parsed per new Service was 3 % of the controller's CPU in a burst, ferry bench
   * scale). What a mutating webhook may add on the way arrives with the watch event, which is then
   * not the write {@link ServiceReconciler#ownWrite} expects, and is reconciled.
   */
  Service ownership(Service service, List<String> finalizers, Map<String, String> annotations) {
    String answer =
        send(
            service,
            "",
            List.of(
                op("add", "/metadata/finalizers", finalizers),
                op("add", "/metadata/annotations", annotations)));
    String resourceVersion = resourceVersionOf(answer);
    if (resourceVersion == null) {
      return parse(answer); // not an answer of the usual shape: read all of it
    }
    ObjectMeta meta =
        new ObjectMetaBuilder(service.getMetadata())
            .withResourceVersion(resourceVersion)
            // the API server stores no empty list or map: neither does this copy
            .withFinalizers(finalizers.isEmpty() ? null : new ArrayList<>(finalizers))
            .withAnnotations(annotations.isEmpty() ? null : new LinkedHashMap<>(annotations))
            .build();
    return new Service(
        service.getApiVersion(), service.getKind(), meta, service.getSpec(), service.getStatus());
  }

  /**
   * {@code metadata.resourceVersion} of a Service's JSON, or null where it has none or is not JSON.
   */
  static String resourceVersionOf(String json) {
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (!"metadata".equals(field) || value != JsonToken.START_OBJECT) {
          p.skipChildren();
          continue;
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          JsonToken v = p.nextToken();
          if ("resourceVersion".equals(name)) {
            return v == JsonToken.VALUE_STRING ? p.getText() : null;
          }
          p.skipChildren();
        }
        return null;
      }
      return null;
    } catch (IOException e) {
      return null; // read whole, which reports what is wrong with it
    }
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
