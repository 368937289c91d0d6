package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerPlan;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import java.util.Map;
import java.util.Objects;

/**
 * A plan that succeeded, and the Service content (UID, spec, annotations) it was made from (see
 * {@code ServiceReconciler.nodesOnly}).
 */
record Applied(
    LoadBalancerPlan plan, String uid, ServiceSpec spec, Map<String, String> annotations) {
  static Applied of(LoadBalancerPlan plan, Service service) {
    return new Applied(
        plan,
        service.getMetadata().getUid(),
        service.getSpec(),
        service.getMetadata().getAnnotations());
  }

  boolean madeFrom(Service service) {
    return Objects.equals(uid, service.getMetadata().getUid())
        && Objects.equals(annotations, service.getMetadata().getAnnotations())
        && Objects.equals(spec, service.getSpec());
  }
}
