package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Instance;
import dev.ferry.spi.ProviderException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The network tags Ferry's firewalls target. A firewall applies to every VM in the network that
 * carries one of its tags (and to every VM at all when it has none), so the tags must be the
 * cluster's own:
 *
 * <ul>
 *   <li>{@code gcp.node-tags} when the operator set it (their word);
 *   <li>otherwise each node's cluster tag, chosen as upstream's {@code computeHostTags} does (the
 *       longest tag that is a prefix of the VM's name, the node-pool tag of kube-up clusters) or as
 *       GKE names its nodes' tag ({@code gke-<cluster>-<hash>-node}); never a tag merely shared by
 *       all nodes, such as {@code http-server};
 *   <li>and a tag chosen so is refused when a VM of the region that is not of the cluster carries
 *       it: the firewall would open the Service's ports there too. A VM is of the cluster when it
 *       is one of the Service's nodes or named as the cluster names its nodes (it starts with the
 *       prefix tag, or with {@code gke-<cluster>-}): a node kept out of load balancers by its label
 *       is still the cluster's.
 * </ul>
 *
 * Refusals are {@link ProviderException.Transient} (a setting or the VMs must change, not the
 * Service), with the fix named, before any change in the cloud.
 */
final class GcpNodeTags {

  private static final Pattern GKE_NODE_TAG = Pattern.compile("gke-.+-node");

  private final GcpContext c;
  private final GcpGroups groups;

  GcpNodeTags(GcpContext c, GcpGroups groups) {
    this.c = c;
    this.groups = groups;
  }

  /** The tags for the nodes {@code byZone} (instance names by zone); never empty. */
  List<String> of(Map<String, List<String>> byZone) throws ProviderException {
    if (!c.nodeTags().isEmpty()) {
      return c.nodeTags();
    }
    Set<String> tags = new TreeSet<>();
    Set<String> names = new TreeSet<>();
    byZone.values().forEach(names::addAll);
    List<Instance> region = new java.util.ArrayList<>();
    for (String zone : groups.zones()) {
      region.addAll(groups.instances(zone));
    }
    for (Instance vm : region) {
      if (!names.contains(vm.getName())) {
        continue;
      }
      String tag = clusterTag(vm);
      if (tag == null) {
        throw new ProviderException.Transient(
            "node VM "
                + vm.getName()
                + " carries no cluster tag (one its name starts with, or GKE's gke-<cluster>-<hash>-node)"
                + " among "
                + vm.getTags().getItemsList()
                + "; set the provider setting gcp.node-tags to the tag only the cluster's nodes carry",
            null);
      }
      tags.add(tag);
    }
    if (tags.isEmpty()) {
      throw new ProviderException.Transient(
          "none of the Service's nodes was found among the region's VMs, so no firewall can target"
              + " them; Ferry opens no port to every VM of the network",
          null);
    }
    for (Instance vm : region) {
      List<String> carried = vm.getTags().getItemsList().stream().filter(tags::contains).toList();
      if (!names.contains(vm.getName())
          && carried.stream().anyMatch(t -> !vm.getName().startsWith(clusterPrefix(t)))) {
        throw new ProviderException.Transient(
            "VM "
                + vm.getName()
                + " is not a node of the cluster but carries the nodes' tag "
                + carried
                + ", so a firewall on that tag would open the Service's ports there too; set the"
                + " provider setting gcp.node-tags to a tag only the cluster's nodes carry",
            null);
      }
    }
    return List.copyOf(tags);
  }

  /** How the names of the VMs carrying a cluster tag begin: GKE's {@code gke-<cluster>-}. */
  static String clusterPrefix(String tag) {
    if (GKE_NODE_TAG.matcher(tag).matches()) {
      String withoutNode = tag.substring(0, tag.length() - "-node".length());
      return withoutNode.substring(0, withoutNode.lastIndexOf('-') + 1);
    }
    return tag;
  }

  /** The VM's cluster tag: the longest that is a prefix of its name, else GKE's node tag. */
  static String clusterTag(Instance vm) {
    String best = null;
    for (String tag : vm.getTags().getItemsList()) {
      if (vm.getName().startsWith(tag) && (best == null || tag.length() > best.length())) {
        best = tag;
      }
    }
    if (best != null) {
      return best;
    }
    return vm.getTags().getItemsList().stream()
        .filter(t -> GKE_NODE_TAG.matcher(t).matches())
        .findFirst()
        .orElse(null);
  }
}
