package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerStatus;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeSpec;
import io.fabric8.kubernetes.api.model.NodeStatus;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PortStatus;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Informer stores that keep only what the controller reads, so memory follows the cluster's size
 * and not its objects' bulk. A Node keeps its name, labels, deletion mark, providerID, taints and
 * addresses (what decides eligibility and makes a backend); its images, conditions, capacity and
 * annotations, often most of a real Node, are dropped. A Service keeps everything but its
 * managedFields (Ferry's patches write whole annotation maps, so its annotations stay whole). Every
 * model object comes with its own empty map of unknown fields; a cached one shares one immutable
 * empty map instead (about ten per object: 8 MiB at 10,000 Services and 5,000 Nodes).
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
    Node slim = b.build();
    shareEmpty(slim, Node::getAdditionalProperties, Node::setAdditionalProperties);
    shareEmpty(
        slim.getMetadata(),
        ObjectMeta::getAdditionalProperties,
        ObjectMeta::setAdditionalProperties);
    if (slim.getSpec() != null) {
      shareEmpty(
          slim.getSpec(), NodeSpec::getAdditionalProperties, NodeSpec::setAdditionalProperties);
      shareEmptyEach(
          slim.getSpec().getTaints(),
          Taint::getAdditionalProperties,
          Taint::setAdditionalProperties);
    }
    if (slim.getStatus() != null) {
      shareEmpty(
          slim.getStatus(),
          NodeStatus::getAdditionalProperties,
          NodeStatus::setAdditionalProperties);
      shareEmptyEach(
          slim.getStatus().getAddresses(),
          NodeAddress::getAdditionalProperties,
          NodeAddress::setAdditionalProperties);
    }
    return slim;
  }

  /** {@code service} without its managedFields (changed in place: the informer's own copy). */
  static Service slim(Service service) {
    service.getMetadata().setManagedFields(null);
    shareEmpty(service, Service::getAdditionalProperties, Service::setAdditionalProperties);
    shareEmpty(
        service.getMetadata(),
        ObjectMeta::getAdditionalProperties,
        ObjectMeta::setAdditionalProperties);
    ServiceSpec spec = service.getSpec();
    if (spec != null) {
      shareEmpty(spec, ServiceSpec::getAdditionalProperties, ServiceSpec::setAdditionalProperties);
      shareEmptyEach(
          spec.getPorts(),
          ServicePort::getAdditionalProperties,
          ServicePort::setAdditionalProperties);
    }
    ServiceStatus status = service.getStatus();
    if (status != null) {
      shareEmpty(
          status, ServiceStatus::getAdditionalProperties, ServiceStatus::setAdditionalProperties);
      shareEmptyEach(
          status.getConditions(),
          Condition::getAdditionalProperties,
          Condition::setAdditionalProperties);
      LoadBalancerStatus lb = status.getLoadBalancer();
      if (lb != null) {
        shareEmpty(
            lb,
            LoadBalancerStatus::getAdditionalProperties,
            LoadBalancerStatus::setAdditionalProperties);
        shareEmptyEach(
            lb.getIngress(),
            LoadBalancerIngress::getAdditionalProperties,
            LoadBalancerIngress::setAdditionalProperties);
        if (lb.getIngress() != null) {
          lb.getIngress()
              .forEach(
                  in ->
                      shareEmptyEach(
                          in.getPorts(),
                          PortStatus::getAdditionalProperties,
                          PortStatus::setAdditionalProperties));
        }
      }
    }
    return service;
  }

  /** {@link #shareEmpty} for each of {@code objects}, when there is a list. */
  private static <T> void shareEmptyEach(
      List<T> objects,
      Function<T, Map<String, Object>> get,
      BiConsumer<T, Map<String, Object>> set) {
    if (objects != null) {
      objects.forEach(o -> shareEmpty(o, get, set));
    }
  }

  /** Replaces {@code object}'s own empty map of unknown fields with the shared empty map. */
  private static <T> void shareEmpty(
      T object, Function<T, Map<String, Object>> get, BiConsumer<T, Map<String, Object>> set) {
    Map<String, Object> unknown = get.apply(object);
    if (unknown == null || unknown.isEmpty()) {
      set.accept(object, Map.of());
    }
  }
}
