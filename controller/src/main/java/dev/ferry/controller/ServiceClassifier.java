package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.Service;
import java.util.List;

/**
 * Decides which Services are Ferry's: {@code type: LoadBalancer} with Ferry's class, or with no
 * class while default-class handling is on; plus any Service that still carries Ferry's finalizer,
 * so a cleanup that was started always finishes.
 */
record ServiceClassifier(String loadBalancerClass, boolean handleDefaultClass) {

  static final String FINALIZER = "ferry.dev/load-balancer-cleanup";

  /** True when Ferry should build a load balancer for this Service now. */
  boolean wantsLoadBalancer(Service service) {
    if (service.getMetadata().getDeletionTimestamp() != null) {
      return false;
    }
    if (service.getSpec() == null || !"LoadBalancer".equals(service.getSpec().getType())) {
      return false;
    }
    String cls = service.getSpec().getLoadBalancerClass();
    return cls == null ? handleDefaultClass : cls.equals(loadBalancerClass);
  }

  static boolean hasFinalizer(Service service) {
    List<String> finalizers = service.getMetadata().getFinalizers();
    return finalizers != null && finalizers.contains(FINALIZER);
  }

  /** True when Ferry has anything to do with this Service: build, keep, or clean up. */
  boolean isRelevant(Service service) {
    return wantsLoadBalancer(service) || hasFinalizer(service);
  }
}
