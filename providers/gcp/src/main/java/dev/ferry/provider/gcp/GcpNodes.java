package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.AddInstancesInstanceGroupRequest;
import com.google.cloud.compute.v1.DeleteInstanceGroupRequest;
import com.google.cloud.compute.v1.InsertInstanceGroupRequest;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstanceGroup;
import com.google.cloud.compute.v1.InstanceGroupList;
import com.google.cloud.compute.v1.InstanceGroupsAddInstancesRequest;
import com.google.cloud.compute.v1.InstanceGroupsListInstances;
import com.google.cloud.compute.v1.InstanceGroupsListInstancesRequest;
import com.google.cloud.compute.v1.InstanceGroupsRemoveInstancesRequest;
import com.google.cloud.compute.v1.InstanceList;
import com.google.cloud.compute.v1.InstanceReference;
import com.google.cloud.compute.v1.InstanceWithNamedPorts;
import com.google.cloud.compute.v1.ListInstanceGroupsRequest;
import com.google.cloud.compute.v1.ListInstancesInstanceGroupsRequest;
import com.google.cloud.compute.v1.ListInstancesRequest;
import com.google.cloud.compute.v1.RemoveInstancesInstanceGroupRequest;
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
 *       NetLB controller does: it adds a node GKE has not added yet ({@code memberAlreadyExists}
 *       is success), and never removes a member or deletes the group (GKE's controller keeps it,
 *       with the same node eligibility).
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
  private final GcpApi api;
  private final ProviderEvents events;
  // not a monitor: the holder waits on Compute calls, which on Java 21 would pin its virtual
  // thread's carrier for the wait
  private final ReentrantLock lock = new ReentrantLock();
  private volatile List<String> zones;
  // per zone: the members this process last read or made there, the groups, and when; a Service
  // that wants the same within FRESH skips the reads (a node change read once, not per Service)
  private final Map<String, Verified> verified = new HashMap<>();

  private static final long FRESH_NANOS = TimeUnit.SECONDS.toNanos(20);

  private record Verified(Set<String> members, List<String> links, long at) {}

  GcpNodes(GcpContext c, GcpApi api, ProviderEvents events) {
    this.c = c;
    this.api = api;
    this.events = events;
  }

  /** The zones of the region (a fact of the region, read once). */
  List<String> zones() throws ProviderException {
    List<String> z = zones;
    if (z == null) {
      z =
          api
              .read("regions.get", () -> c.regions().get(c.project(), c.region()))
              .getZonesList()
              .stream()
              .map(GcpContext::last)
              .sorted()
              .toList();
      zones = z;
    }
    return z;
  }

  /**
   * Makes the zones' groups hold {@code byZone}'s instances that exist (a VM that is gone is
   * skipped with a Warning on {@code ref}); answers the full links of the groups with members, as
   * a backend service takes them. With {@code trustRecent}, a zone this process read or made for
   * the same set in the last seconds is not read again: a node change fans out to every Service's
   * {@code updateBackends}, and the first one has done the work (any failure forgets it).
   */
  List<String> sync(LoadBalancerRef ref, Map<String, List<String>> byZone, boolean trustRecent)
      throws ProviderException {
    List<String> links = new ArrayList<>();
    lock.lock();
    try {
      for (String zone : zones()) {
        Set<String> want = new TreeSet<>();
        byZone.getOrDefault(zone, List.of()).forEach(n -> want.add(c.zonalLink(zone, "instances", n)));
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
        verified.put(zone, new Verified(Set.copyOf(want), List.copyOf(zoneLinks), System.nanoTime()));
      }
    } finally {
      lock.unlock();
    }
    return links;
  }

  private List<String> syncZone(LoadBalancerRef ref, String zone, Set<String> want)
      throws ProviderException {
    String own = GcpNames.instanceGroup(ref.cluster());
    List<InstanceGroup> groups =
        groups(zone, "name eq \"(" + GKE_GROUP_PREFIX + ".*|" + own + "(-[0-9]+)?)\"");
    for (InstanceGroup gke : groups) {
      if (!gke.getName().startsWith(GKE_GROUP_PREFIX) || want.isEmpty()) {
        continue;
      }
      Set<String> have = members(zone, gke.getName());
      if (have.stream().noneMatch(want::contains)) {
        continue; // another cluster's, or nodes GKE does not balance: not this one
      }
      Set<String> add = new TreeSet<>(want);
      add.removeAll(have);
      add(ref, zone, gke.getName(), existing(ref, zone, add));
      return List.of(GcpContext.full(c.zonalLink(zone, "instanceGroups", gke.getName())));
    }
    // Ferry's own groups, by index; members stay where they are
    Map<Integer, Set<String>> byGroup = new LinkedHashMap<>();
    for (InstanceGroup g : groups) {
      if (!g.getName().startsWith(GKE_GROUP_PREFIX)) {
        byGroup.put(index(own, g.getName()), members(zone, g.getName()));
      }
    }
    Set<String> placed = new HashSet<>();
    for (Map.Entry<Integer, Set<String>> g : byGroup.entrySet()) {
      Set<String> leaving = new TreeSet<>(g.getValue());
      leaving.removeAll(want);
      remove(zone, GcpNames.instanceGroup(ref.cluster(), g.getKey()), leaving);
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
    groups.stream()
        .filter(g -> !g.getName().startsWith(GKE_GROUP_PREFIX))
        .forEach(g -> made.add(index(own, g.getName())));
    for (Map.Entry<Integer, Set<String>> a : adds.entrySet()) {
      String name = GcpNames.instanceGroup(ref.cluster(), a.getKey());
      if (!made.contains(a.getKey())) {
        insertGroup(ref, zone, name);
      }
      add(ref, zone, name, a.getValue());
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
      for (String zone : zones()) {
        for (InstanceGroup g : groups(zone, "name eq \"" + own + "(-[0-9]+)?\"")) {
          api.delete(
              "instanceGroups.delete",
              id ->
                  c.groups()
                      .deleteCallable()
                      .call(
                          DeleteInstanceGroupRequest.newBuilder()
                              .setProject(c.project())
                              .setZone(zone)
                              .setInstanceGroup(g.getName())
                              .setRequestId(id)
                              .build()));
        }
      }
    } finally {
      lock.unlock();
    }
  }

  private void insertGroup(LoadBalancerRef ref, String zone, String name) throws ProviderException {
    // the network is output only: a group is in the network of its first VM
    InstanceGroup g =
        InstanceGroup.newBuilder().setName(name).setDescription(GcpOwner.shared(ref.cluster())).build();
    api.insert(
        "instanceGroups.insert",
        id ->
            c.groups()
                .insertCallable()
                .call(
                    InsertInstanceGroupRequest.newBuilder()
                        .setProject(c.project())
                        .setZone(zone)
                        .setInstanceGroupResource(g)
                        .setRequestId(id)
                        .build()),
        () -> api.get("instanceGroups.get", () -> c.groups().get(c.project(), zone, name)).isPresent());
  }

  private void add(LoadBalancerRef ref, String zone, String group, Set<String> vms)
      throws ProviderException {
    if (vms.isEmpty()) {
      return;
    }
    try {
      api.mutate(
          "instanceGroups.addInstances",
          id ->
              c.groups()
                  .addInstancesCallable()
                  .call(
                      AddInstancesInstanceGroupRequest.newBuilder()
                          .setProject(c.project())
                          .setZone(zone)
                          .setInstanceGroup(group)
                          .setInstanceGroupsAddInstancesRequestResource(
                              InstanceGroupsAddInstancesRequest.newBuilder()
                                  .addAllInstances(references(vms)))
                          .setRequestId(id)
                          .build()));
    } catch (ProviderException e) {
      if (GcpApi.refusedAs(e, "memberAlreadyExists")) {
        // another writer (GKE's controller, or this one before a crash) added some: add the rest
        Set<String> rest = new TreeSet<>(vms);
        rest.removeAll(members(zone, group));
        if (!rest.isEmpty() && !rest.equals(vms)) {
          add(ref, zone, group, rest);
        }
        return;
      }
      if (GcpApi.refusedAs(e, "instanceInMultipleLoadBalancedIgs")) {
        throw inAnotherLoadBalancer(ref, e);
      }
      throw e;
    }
  }

  /** A node VM already in another load balancer's group: said plainly, retried with backoff. */
  ProviderException inAnotherLoadBalancer(LoadBalancerRef ref, ProviderException e) {
    String message =
        "a node VM is already in another load-balanced instance group, and Compute allows one per"
            + " VM; Ferry uses GKE's "
            + GKE_GROUP_PREFIX
            + "<uid> groups where a zone has one, otherwise its own; remove the nodes from the other"
            + " group or its load balancer ("
            + e.getMessage()
            + ")";
    events.warning(ref, "NodesInAnotherLoadBalancer", message);
    return new ProviderException.Transient(message, e);
  }

  private void remove(String zone, String group, Set<String> vms) throws ProviderException {
    if (vms.isEmpty()) {
      return;
    }
    api.mutate(
        "instanceGroups.removeInstances",
        id ->
            c.groups()
                .removeInstancesCallable()
                .call(
                    RemoveInstancesInstanceGroupRequest.newBuilder()
                        .setProject(c.project())
                        .setZone(zone)
                        .setInstanceGroup(group)
                        .setInstanceGroupsRemoveInstancesRequestResource(
                            InstanceGroupsRemoveInstancesRequest.newBuilder()
                                .addAllInstances(references(vms)))
                        .setRequestId(id)
                        .build()));
  }

  private List<InstanceGroup> groups(String zone, String filter) throws ProviderException {
    List<InstanceGroup> out = new ArrayList<>();
    String token = "";
    do {
      String page = token;
      InstanceGroupList answer =
          api.read(
              "instanceGroups.list",
              () ->
                  c.groups()
                      .listCallable()
                      .call(
                          ListInstanceGroupsRequest.newBuilder()
                              .setProject(c.project())
                              .setZone(zone)
                              .setFilter(filter)
                              .setPageToken(page)
                              .build()));
      out.addAll(answer.getItemsList());
      token = answer.getNextPageToken();
    } while (!token.isEmpty());
    return out;
  }

  private Set<String> members(String zone, String group) throws ProviderException {
    Set<String> out = new TreeSet<>();
    String token = "";
    do {
      String page = token;
      InstanceGroupsListInstances answer =
          api.read(
              "instanceGroups.listInstances",
              () ->
                  c.groups()
                      .listInstancesCallable()
                      .call(
                          ListInstancesInstanceGroupsRequest.newBuilder()
                              .setProject(c.project())
                              .setZone(zone)
                              .setInstanceGroup(group)
                              .setPageToken(page)
                              .setInstanceGroupsListInstancesRequestResource(
                                  InstanceGroupsListInstancesRequest.newBuilder()
                                      .setInstanceState("ALL"))
                              .build()));
      for (InstanceWithNamedPorts i : answer.getItemsList()) {
        out.add(GcpContext.relative(i.getInstance()));
      }
      token = answer.getNextPageToken();
    } while (!token.isEmpty());
    return out;
  }

  /** Which of {@code links} are instances Compute has; a Warning on {@code ref} for the others. */
  private Set<String> existing(LoadBalancerRef ref, String zone, Set<String> links)
      throws ProviderException {
    if (links.isEmpty()) {
      return links;
    }
    Set<String> out = new TreeSet<>();
    for (Instance vm : instances(zone)) {
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

  /** The VMs of a zone. */
  List<Instance> instances(String zone) throws ProviderException {
    List<Instance> out = new ArrayList<>();
    String token = "";
    do {
      String page = token;
      InstanceList answer =
          api.read(
              "instances.list",
              () ->
                  c.instances()
                      .listCallable()
                      .call(
                          ListInstancesRequest.newBuilder()
                              .setProject(c.project())
                              .setZone(zone)
                              .setPageToken(page)
                              .build()));
      out.addAll(answer.getItemsList());
      token = answer.getNextPageToken();
    } while (!token.isEmpty());
    return out;
  }

  private static List<InstanceReference> references(Set<String> links) {
    return links.stream()
        .map(l -> InstanceReference.newBuilder().setInstance(GcpContext.full(l)).build())
        .toList();
  }
}
