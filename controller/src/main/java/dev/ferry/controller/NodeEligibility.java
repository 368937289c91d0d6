package dev.ferry.controller;

import dev.ferry.spi.Backend;
import dev.ferry.spi.IpFamily;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Which nodes carry load-balancer traffic, as upstream Kubernetes decides since 1.30: not being
 * deleted, no {@code ToBeDeletedByClusterAutoscaler} taint, and the label {@code
 * node.kubernetes.io/exclude-from-external-load-balancers} absent (any value but {@code false},
 * including an empty one, excludes). Readiness does not count; health checks handle it.
 */
final class NodeEligibility {

  static final String EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";
  static final String AUTOSCALER_TAINT = "ToBeDeletedByClusterAutoscaler";
  static final String ZONE_LABEL = "topology.kubernetes.io/zone";

  private NodeEligibility() {}

  static boolean isEligible(Node node) {
    if (node.getMetadata().getDeletionTimestamp() != null) {
      return false;
    }
    Map<String, String> labels = node.getMetadata().getLabels();
    if (labels != null
        && labels.containsKey(EXCLUDE_LABEL)
        && !"false".equalsIgnoreCase(labels.get(EXCLUDE_LABEL).trim())) {
      return false;
    }
    if (node.getSpec() != null && node.getSpec().getTaints() != null) {
      return node.getSpec().getTaints().stream()
          .noneMatch(t -> AUTOSCALER_TAINT.equals(t.getKey()));
    }
    return true;
  }

  static Backend toBackend(Node node) {
    Map<String, String> labels = node.getMetadata().getLabels();
    String zone = labels == null ? "" : labels.getOrDefault(ZONE_LABEL, "");
    String providerId = node.getSpec() == null ? "" : node.getSpec().getProviderID();
    List<String> addresses = addresses(node);
    String primary =
        addresses.stream()
            .filter(a -> IpFamily.of(a) == IpFamily.IPv4)
            .findFirst()
            .orElse(addresses.isEmpty() ? "" : addresses.get(0));
    return new Backend(node.getMetadata().getName(), providerId, primary, zone, addresses);
  }

  /**
   * The eligible nodes: their backends, sorted by node name, and their labels by node name (for
   * Services that pick nodes by label).
   */
  record Eligible(List<Backend> backends, Map<String, Map<String, String>> labels) {
    static Eligible of(Collection<Node> nodes) {
      Map<String, Map<String, String>> labels = new java.util.TreeMap<>();
      nodes.stream()
          .filter(NodeEligibility::isEligible)
          .forEach(
              n ->
                  labels.put(
                      n.getMetadata().getName(),
                      n.getMetadata().getLabels() == null
                          ? Map.of()
                          : Map.copyOf(n.getMetadata().getLabels())));
      return new Eligible(eligibleBackends(nodes), Map.copyOf(labels));
    }
  }

  /**
   * The backends for the eligible nodes among {@code nodes}, sorted by node name, in a list that
   * {@link List#copyOf} keeps as it is.
   */
  static List<Backend> eligibleBackends(Collection<Node> nodes) {
    // List.copyOf: a list every plan can share as it is (List.copyOf of it is itself), so 10,000
    // plans over 5,000 nodes hold one array of backends, not 10,000 copies
    return List.copyOf(
        nodes.stream()
            .filter(NodeEligibility::isEligible)
            .map(NodeEligibility::toBackend)
            .sorted(Comparator.comparing(Backend::nodeName))
            .toList());
  }

  /**
   * The node's InternalIPs (a dual-stack node has one of each family), else its ExternalIPs, in the
   * Node's order.
   */
  private static List<String> addresses(Node node) {
    if (node.getStatus() == null || node.getStatus().getAddresses() == null) {
      return List.of();
    }
    List<NodeAddress> addresses = node.getStatus().getAddresses();
    for (String type : List.of("InternalIP", "ExternalIP")) {
      List<String> found =
          addresses.stream()
              .filter(a -> type.equals(a.getType()) && a.getAddress() != null)
              .map(NodeAddress::getAddress)
              .toList();
      if (!found.isEmpty()) {
        return found;
      }
    }
    return List.of();
  }
}
