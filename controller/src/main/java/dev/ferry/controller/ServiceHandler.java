package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.Objects;

/**
 * The Service informer's handler: it only feeds the NodePort allocator and enqueues keys, and
 * leaves out updates that change nothing Ferry acts on (status, resyncs, the echo of its own
 * ownership write).
 */
final class ServiceHandler implements ResourceEventHandler<Service> {
  private final NodePortAssigner ports;
  private final ServiceClassifier classifier;
  private final ServiceReconciler reconciler;
  private final WorkQueue queue;

  ServiceHandler(
      NodePortAssigner ports,
      ServiceClassifier classifier,
      ServiceReconciler reconciler,
      WorkQueue queue) {
    this.ports = ports;
    this.classifier = classifier;
    this.reconciler = reconciler;
    this.queue = queue;
  }

  // The allocator follows every Service here, in the informer's order, not in a reconcile: a
  // port one Service lets go is free before the next event, in which another may take it.
  @Override
  public void onAdd(Service service) {
    ports.observe(service).forEach(queue::add);
    if (classifier.isRelevant(service)) {
      queue.add(Cache.metaNamespaceKeyFunc(service));
    }
  }

  @Override
  public void onUpdate(Service old, Service service) {
    ports.observe(service).forEach(queue::add);
    if (!classifier.isRelevant(service) && !classifier.isRelevant(old)) {
      return;
    }
    // only finalizers and annotations may differ once these two are the same
    boolean onlyMetadata =
        Objects.equals(old.getSpec(), service.getSpec())
            && Objects.equals(
                old.getMetadata().getDeletionTimestamp(),
                service.getMetadata().getDeletionTimestamp());
    if (onlyMetadata
        && Objects.equals(
            old.getMetadata().getAnnotations(), service.getMetadata().getAnnotations())
        && Objects.equals(
            old.getMetadata().getFinalizers(), service.getMetadata().getFinalizers())) {
      return; // status or resync only
    }
    String key = Cache.metaNamespaceKeyFunc(service);
    // asked first: the first update after an ownership write always ends its record
    if (reconciler.ownWrite(key, service) && onlyMetadata) {
      return; // the ownership Ferry's reconcile is taking: it goes on from its write
    }
    queue.add(key);
  }

  @Override
  public void onDelete(Service service, boolean finalStateUnknown) {
    ports.forget(service).forEach(queue::add);
    queue.add(Cache.metaNamespaceKeyFunc(service));
  }
}
