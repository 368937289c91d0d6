package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.Service;
import java.util.List;
import java.util.Map;

/**
 * Decides which Services are this Ferry deployment's.
 *
 * <p>When Ferry first takes a Service (with the finalizer, before any cloud call) it records on it
 * which deployment took it ({@value #OWNER}: the deployment's Lease, {@code namespace/name}, which
 * stays the same across restarts and flag changes) and the cluster name its cloud resources are
 * tagged with ({@value #OWNER_CLUSTER}). From then on:
 *
 * <ul>
 *   <li>a Service another deployment took is never touched, so several Ferry deployments (one per
 *       class, or per cloud account) share a cluster;
 *   <li>a Service this deployment took keeps being served until the Service itself is deleted or
 *       stops being {@code type: LoadBalancer}, even if {@code --load-balancer-class} or {@code
 *       --[no-]handle-default-class} no longer select it: a flag change never deletes or orphans a
 *       load balancer;
 *   <li>its cloud resources keep the cluster name they were made under, so changing {@code
 *       --cluster-name} finds them instead of making second ones.
 * </ul>
 *
 * A Service that no deployment has taken yet is this one's when it is {@code type: LoadBalancer}
 * with this deployment's class, or with none while default-class handling is on and no other
 * controller already serves it: a class-less Service whose status shows an address Ferry did not
 * write (the cloud's own controller, as on EKS or GKE) is never taken over, which would give it a
 * second load balancer; setting {@code spec.loadBalancerClass} to Ferry's hands it over.
 */
record ServiceClassifier(String loadBalancerClass, boolean handleDefaultClass, String owner) {

  static final String FINALIZER = "ferry.dev/load-balancer-cleanup";
  static final String OWNER = "ferry.dev/owner";
  static final String OWNER_CLUSTER = "ferry.dev/cluster-name";

  /** True when Ferry should build or keep a load balancer for this Service now. */
  boolean wantsLoadBalancer(Service service) {
    if (service.getMetadata().getDeletionTimestamp() != null) {
      return false;
    }
    if (service.getSpec() == null || !"LoadBalancer".equals(service.getSpec().getType())) {
      return false;
    }
    String taker = ownerOf(service);
    return taker == null ? selectedByClass(service) : taker.equals(owner);
  }

  /** True when this deployment's class flags select the Service, ownership aside. */
  boolean selectedByClass(Service service) {
    String cls = service.getSpec() == null ? null : service.getSpec().getLoadBalancerClass();
    if (cls == null) {
      return handleDefaultClass && (hasFinalizer(service) || !servedElsewhere(service));
    }
    return cls.equals(loadBalancerClass);
  }

  /** True when the Service shows a load balancer address (and Ferry has not taken it). */
  static boolean servedElsewhere(Service service) {
    return service.getStatus() != null
        && service.getStatus().getLoadBalancer() != null
        && service.getStatus().getLoadBalancer().getIngress() != null
        && !service.getStatus().getLoadBalancer().getIngress().isEmpty();
  }

  static boolean hasFinalizer(Service service) {
    List<String> finalizers = service.getMetadata().getFinalizers();
    return finalizers != null && finalizers.contains(FINALIZER);
  }

  /** The deployment that took the Service, or null when none has. */
  static String ownerOf(Service service) {
    Map<String, String> a = service.getMetadata().getAnnotations();
    return a == null ? null : a.get(OWNER);
  }

  /** The cluster name the Service's cloud resources were made under, or null. */
  static String ownerCluster(Service service) {
    Map<String, String> a = service.getMetadata().getAnnotations();
    return a == null ? null : a.get(OWNER_CLUSTER);
  }

  /** True when this deployment must clean up after the Service (its finalizer, not another's). */
  boolean mustCleanUp(Service service) {
    String taker = ownerOf(service);
    return hasFinalizer(service)
        && (taker == null ? selectedByClass(service) : taker.equals(owner));
  }

  /** True when Ferry has anything to do with this Service: build, keep, or clean up. */
  boolean isRelevant(Service service) {
    return wantsLoadBalancer(service) || mustCleanUp(service);
  }
}
