package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ferry's hold on a Service: its finalizer and the ownership record (which deployment, which
 * cluster name), taken before the first cloud call and given up only after the delete succeeded;
 * and which of the Service's updates are the echo of that write.
 */
final class ServiceOwnership {

  private record Ownership(List<String> finalizers, Map<String, String> annotations) {}

  private final ServicePatches patches;
  private final String owner;
  private final String clusterName;
  // the finalizers and annotations a reconcile is writing to take a Service (see ownWrite)
  private final Map<String, Ownership> taking = new ConcurrentHashMap<>();

  ServiceOwnership(ServicePatches patches, String owner, String clusterName) {
    this.patches = patches;
    this.owner = owner;
    this.clusterName = clusterName;
  }

  /**
   * Whether {@code service}'s finalizers and annotations are the ownership a reconcile of it is
   * taking (or took). For an update that changed nothing else (the caller knows), the reconcile
   * goes on from its write's answer, or, when the write failed, is queued again by its outcome, so
   * the update is no news. Looked at once per ownership write, by the first update that follows it.
   */
  boolean ownWrite(String key, Service service) {
    Ownership written = taking.remove(key);
    return written != null
        && written.finalizers().equals(service.getMetadata().getFinalizers())
        && written.annotations().equals(service.getMetadata().getAnnotations());
  }

  /** Forgets the write under way for {@code key}. */
  void forget(String key) {
    taking.remove(key);
  }

  /** Forgets every write under way. */
  void forgetAll() {
    taking.clear();
  }

  /**
   * Takes the Service for this deployment (finalizer plus the ownership record: which deployment,
   * which cluster name), or lets it go (all three removed).
   */
  Service set(String key, Service service, boolean take) {
    List<String> finalizers = new ArrayList<>();
    if (service.getMetadata().getFinalizers() != null) {
      finalizers.addAll(service.getMetadata().getFinalizers());
    }
    finalizers.remove(ServiceClassifier.FINALIZER);
    Map<String, String> annotations = new TreeMap<>();
    if (service.getMetadata().getAnnotations() != null) {
      annotations.putAll(service.getMetadata().getAnnotations());
    }
    if (take) {
      finalizers.add(ServiceClassifier.FINALIZER);
      annotations.put(ServiceClassifier.OWNER, owner);
      annotations.putIfAbsent(ServiceClassifier.OWNER_CLUSTER, clusterName);
    } else {
      annotations.remove(ServiceClassifier.OWNER);
      annotations.remove(ServiceClassifier.OWNER_CLUSTER);
    }
    if (take) { // recorded before the write: its watch event may come before its answer
      taking.put(key, new Ownership(finalizers, annotations));
    }
    return patches.ownership(service, finalizers, annotations);
  }
}
