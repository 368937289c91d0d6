package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.function.UnaryOperator;

/**
 * Informer stores that keep only what the controller reads, so memory follows the cluster's size
 * and not its objects' bulk. A Node keeps its name, labels, deletion mark, providerID, taints and
 * addresses (what decides eligibility and makes a backend); its images, conditions, capacity and
 * annotations, often most of a real Node, are dropped. A Service keeps everything but its
 * managedFields (Ferry's patches write whole annotation maps, so its annotations stay whole).
 */
final class SlimStores {

  private SlimStores() {}

  static ItemStore<Node> nodes() {
    return slimming(SlimStores::slim);
  }

  static ItemStore<Service> services() {
    return slimming(SlimStores::slim);
  }

  private static <T extends HasMetadata> ItemStore<T> slimming(UnaryOperator<T> slim) {
    return new BasicItemStore<>(Cache::metaNamespaceKeyFunc) {
      @Override
      public T put(String key, T item) {
        return super.put(key, slim.apply(item));
      }
    };
  }

  /** A copy of {@code node} with only what {@link NodeEligibility} reads. */
  static Node slim(Node node) {
    var m = node.getMetadata();
    NodeBuilder b =
        new NodeBuilder()
            .withNewMetadata()
            .withName(m.getName())
            .withUid(m.getUid())
            .withResourceVersion(m.getResourceVersion())
            .withLabels(m.getLabels())
            .withDeletionTimestamp(m.getDeletionTimestamp())
            .endMetadata();
    if (node.getSpec() != null) {
      b.withNewSpec()
          .withProviderID(node.getSpec().getProviderID())
          .withTaints(node.getSpec().getTaints())
          .endSpec();
    }
    if (node.getStatus() != null) {
      b.withNewStatus().withAddresses(node.getStatus().getAddresses()).endStatus();
    }
    return b.build();
  }

  /** {@code service} without its managedFields (changed in place: the informer's own copy). */
  static Service slim(Service service) {
    service.getMetadata().setManagedFields(null);
    return service;
  }
}
