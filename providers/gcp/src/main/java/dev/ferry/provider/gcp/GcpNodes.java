package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstanceGroup;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The backends: per zone, the instance groups holding the cluster's nodes, shared by every Service
 * (a node joining or leaving is one group change per zone for the whole cluster).
 *
 * <ul>
 *   <li>On GKE the nodes already sit in GKE's own {@code k8s-ig--<cluster uid>} groups, behind its
 *       Ingresses' backend services, and Compute lets a VM be in one load-balanced group only. So
 *       where a zone's GKE group holds the Service's nodes, Ferry uses it as it is, as GKE's own
 *       NetLB controller does: it adds a node GKE has not added yet ({@code memberAlreadyExists} is
 *       success), and never removes a member or deletes the group (GKE's controller keeps it, with
 *       the same node eligibility).
 *   <li>Elsewhere, Ferry's own groups {@code ferry-<hash>-nodes[-N]}, at most {@value #MAX_GROUP}
 *       VMs each (Compute's and both upstreams' cap): a node stays in its group, a new one goes
 *       where there is room, and a group is emptied of leavers before anyone is added, so no VM is
 *       ever in two of them.
 * </ul>
 *
 * <p>Group changes are serialized within the process (one controller leads); a change made
 * concurrently elsewhere fails with a conflict and the next attempt reads again.
 */
final class GcpNodes {

  static final int MAX_GROUP = 1000;
  static final String GKE_GROUP_PREFIX = "k8s-ig--";

  private final GcpContext c;
  private final GcpGroups groups;
  private final ProviderEvents events;
  // not a monitor: the holder waits on Compute calls, which on Java 21 would pin its virtual
  // thread's carrier for the wait
  private final ReentrantLock lock = new ReentrantLock();
  // per zone: the members this process last read or made there, the groups, and when; a Service
  // that wants the same within FRESH skips the reads (a node change read once, not per Service)
  private final Map<String, Verified> verified = new HashMap<>();

  private static final long FRESH_NANOS = TimeUnit.SECONDS.toNanos(20);

  private record Verified(Set<String> members, List<String> links, long at) {}

  GcpNodes(GcpContext c, GcpGroups groups, ProviderEvents events) {
    this.c = c;
    this.groups = groups;
    this.events = events;
  }

  /**
   * Makes the zones' groups hold {@code byZone}'s instances that exist (a VM that is gone is
   * skipped with a Warning on {@code ref}); answers the full links of the groups with members, as a
   * backend service takes them. With {@code trustRecent}, a zone this process read or made for the
   * same set in the last seconds is not read again: a node change fans out to every Service's
   * {@code updateBackends}, and the first one has done the work (any failure forgets it).
   */
  List<String> sync(LoadBalancerRef ref, Map<String, List<String>> byZone, boolean trustRecent)
      throws ProviderException {
    List<String> links = new ArrayList<>();
    lock.lock();
    try {
      for (String zone : groups.zones()) {
        Set<String> want = new TreeSet<>();
        byZone
            .getOrDefault(zone, List.of())
            .forEach(n -> want.add(c.zonalLink(zone, "instances", n)));
        Verified last = verified.get(zone);
        if (trustRecent
            && last != null
            && last.members().equals(want)
            && System.nanoTime() - last.at() < FRESH_NANOS) {
          links.addAll(last.links());
          continue;
        }
        verified.remove(zone);
        List<String> zoneLinks = syncZone(ref, zone, want);
        links.addAll(zoneLinks);
        verified.put(
            zone, new Verified(Set.copyOf(want), List.copyOf(zoneLinks), System.nanoTime()));
      }
    } finally {
      lock.unlock();
    }
    return links;
  }

  private List<String> syncZone(LoadBalancerRef ref, String zone, Set<String> want)
      throws ProviderException {
    String own = GcpNames.instanceGroup(ref.cluster());
    List<InstanceGroup> found =
        groups.list(zone, "name eq \"(" + GKE_GROUP_PREFIX + ".*|" + own + "(-[0-9]+)?)\"");
    for (InstanceGroup gke : found) {
      if (!gke.getName().startsWith(GKE_GROUP_PREFIX) || want.isEmpty()) {
        continue;
      }
      Set<String> have = groups.members(zone, gke.getName());
      if (have.stream().noneMatch(want::contains)) {
        continue; // another cluster's, or nodes GKE does not balance: not this one
      }
      Set<String> add = new TreeSet<>(want);
      add.removeAll(have);
      groups.add(ref, zone, gke.getName(), existing(ref, zone, add));
      return List.of(GcpContext.full(c.zonalLink(zone, "instanceGroups", gke.getName())));
    }
    // Ferry's own groups, by index; members stay where they are
    Map<Integer, Set<String>> byGroup = new LinkedHashMap<>();
    for (InstanceGroup g : found) {
      if (!g.getName().startsWith(GKE_GROUP_PREFIX)) {
        byGroup.put(index(own, g.getName()), groups.members(zone, g.getName()));
      }
    }
    Set<String> placed = new HashSet<>();
    for (Map.Entry<Integer, Set<String>> g : byGroup.entrySet()) {
      Set<String> leaving = new TreeSet<>(g.getValue());
      leaving.removeAll(want);
      groups.remove(zone, GcpNames.instanceGroup(ref.cluster(), g.getKey()), leaving);
      g.getValue().removeAll(leaving);
      placed.addAll(g.getValue());
    }
    Set<String> joining = new TreeSet<>(want);
    joining.removeAll(placed);
    joining = existing(ref, zone, joining);
    Map<Integer, Set<String>> adds = new LinkedHashMap<>();
    for (String vm : joining) {
      int i = 0;
      while (byGroup.getOrDefault(i, Set.of()).size() >= MAX_GROUP) {
        i++;
      }
      byGroup.computeIfAbsent(i, k -> new TreeSet<>()).add(vm);
      adds.computeIfAbsent(i, k -> new TreeSet<>()).add(vm);
    }
    Set<Integer> made = new HashSet<>();
    found.stream()
        .filter(g -> !g.getName().startsWith(GKE_GROUP_PREFIX))
        .forEach(g -> made.add(index(own, g.getName())));
    for (Map.Entry<Integer, Set<String>> a : adds.entrySet()) {
      String name = GcpNames.instanceGroup(ref.cluster(), a.getKey());
      if (!made.contains(a.getKey())) {
        groups.insert(ref, zone, name);
      }
      groups.add(ref, zone, name, a.getValue());
    }
    List<String> links = new ArrayList<>();
    byGroup.forEach(
        (i, m) -> {
          if (!m.isEmpty()) {
            String name = GcpNames.instanceGroup(ref.cluster(), i);
            links.add(GcpContext.full(c.zonalLink(zone, "instanceGroups", name)));
          }
        });
    return links;
  }

  private static int index(String own, String name) {
    return name.equals(own) ? 0 : Integer.parseInt(name.substring(own.length() + 1)) - 1;
  }

  /** Forgets what was verified: after a failure, the next attempt reads the groups again. */
  void forget() {
    lock.lock();
    try {
      verified.clear();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Deletes the cluster's own groups that nothing uses any more (Compute refuses while a backend
   * service refers to one: that group stays for the Services that still use it). GKE's groups are
   * GKE's.
   */
  void deleteUnused(String cluster) throws ProviderException {
    String own = GcpNames.instanceGroup(cluster);
    lock.lock();
    try {
      verified.clear();
      for (String zone : groups.zones()) {
        for (InstanceGroup g : groups.list(zone, "name eq \"" + own + "(-[0-9]+)?\"")) {
          groups.delete(zone, g.getName());
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** Which of {@code links} are instances Compute has; a Warning on {@code ref} for the others. */
  private Set<String> existing(LoadBalancerRef ref, String zone, Set<String> links)
      throws ProviderException {
    if (links.isEmpty()) {
      return links;
    }
    Set<String> out = new TreeSet<>();
    for (Instance vm : groups.instances(zone)) {
      String link = c.zonalLink(zone, "instances", vm.getName());
      if (links.contains(link)) {
        out.add(link);
      }
    }
    for (String gone : links) {
      if (!out.contains(gone)) {
        events.warning(
            ref,
            "NodeNotRegistered",
            "instance "
                + gone
                + " does not exist in Compute Engine (deleted, or a wrong providerID); it is left"
                + " out of the load balancer");
      }
    }
    return out;
  }
}
