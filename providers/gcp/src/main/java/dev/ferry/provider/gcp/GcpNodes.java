package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.AddInstancesInstanceGroupRequest;
import com.google.cloud.compute.v1.DeleteInstanceGroupRequest;
import com.google.cloud.compute.v1.InsertInstanceGroupRequest;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstanceGroup;
import com.google.cloud.compute.v1.InstanceGroupsAddInstancesRequest;
import com.google.cloud.compute.v1.InstanceGroupsListInstances;
import com.google.cloud.compute.v1.InstanceGroupsListInstancesRequest;
import com.google.cloud.compute.v1.InstanceGroupsRemoveInstancesRequest;
import com.google.cloud.compute.v1.InstanceList;
import com.google.cloud.compute.v1.InstanceReference;
import com.google.cloud.compute.v1.InstanceWithNamedPorts;
import com.google.cloud.compute.v1.ListInstancesInstanceGroupsRequest;
import com.google.cloud.compute.v1.ListInstancesRequest;
import com.google.cloud.compute.v1.RemoveInstancesInstanceGroupRequest;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The cluster's unmanaged instance groups, one per zone, shared by every Service: membership
 * follows the nodes, so a node joining or leaving is one group change per zone for the whole
 * cluster, and every later Service finds the group already right (reads only).
 *
 * <p>Group changes are serialized within the process (one controller leads); a change made
 * concurrently elsewhere fails with a conflict and the next attempt reads again.
 */
final class GcpNodes {

  private final GcpContext c;
  private final GcpApi api;
  private final ProviderEvents events;
  // not a monitor: the holder waits on Compute calls, which on Java 21 would pin its virtual
  // thread's carrier for the wait
  private final ReentrantLock lock = new ReentrantLock();
  private volatile List<String> zones;
  // per zone: the members this process last read or made there, and when; a Service that wants
  // the same within FRESH skips the reads (a node change read once, not once per Service)
  private final Map<String, Verified> verified = new java.util.HashMap<>();

  private static final long FRESH_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(20);

  private record Verified(Set<String> members, long at) {}

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
   * Makes every zone's group hold exactly {@code byZone}'s instances that exist (a VM that is gone
   * is skipped with a Warning on {@code ref}); answers the links of the groups that have members.
   * With {@code trustRecent}, a zone whose members this process read or made for the same set in
   * the last seconds is not read again: a node change fans out to every Service's {@code
   * updateBackends}, and the first one has done the work (any failure forgets it).
   */
  List<String> sync(LoadBalancerRef ref, Map<String, List<String>> byZone, boolean trustRecent)
      throws ProviderException {
    String group = GcpNames.instanceGroup(ref.cluster());
    List<String> links = new ArrayList<>();
    lock.lock();
    try {
      for (String zone : zones()) {
        List<String> wanted = byZone.getOrDefault(zone, List.of());
        Set<String> want = new TreeSet<>();
        wanted.forEach(n -> want.add(c.zonalLink(zone, "instances", n)));
        Verified last = verified.get(group + "@" + zone);
        if (trustRecent
            && last != null
            && last.members().equals(want)
            && System.nanoTime() - last.at() < FRESH_NANOS) {
          if (!want.isEmpty()) {
            links.add(c.zonalLink(zone, "instanceGroups", group));
          }
          continue;
        }
        verified.remove(group + "@" + zone);
        Optional<InstanceGroup> found =
            api.get("instanceGroups.get", () -> c.groups().get(c.project(), zone, group));
        if (found.isEmpty() && wanted.isEmpty()) {
          continue;
        }
        if (found.isEmpty()) {
          InstanceGroup g =
              InstanceGroup.newBuilder()
                  .setName(group)
                  .setNetwork(c.network())
                  .setDescription(
                      "{\"ferry.dev/cluster\":\"" + ref.cluster() + "\",\"shared\":true}")
                  .build();
          api.mutate(
              "instanceGroups.insert",
              () ->
                  c.groups()
                      .insertCallable()
                      .call(
                          InsertInstanceGroupRequest.newBuilder()
                              .setProject(c.project())
                              .setZone(zone)
                              .setInstanceGroupResource(g)
                              .build()));
        }
        Set<String> have = members(zone, group);
        Set<String> add = new TreeSet<>(want);
        add.removeAll(have);
        Set<String> remove = new TreeSet<>(have);
        remove.removeAll(want);
        if (!add.isEmpty()) {
          Set<String> existing = existing(zone, add);
          for (String gone : add) {
            if (!existing.contains(gone)) {
              events.warning(
                  ref,
                  "NodeNotRegistered",
                  "instance "
                      + gone
                      + " does not exist in Compute Engine (deleted, or a wrong providerID);"
                      + " it is left out of the load balancer");
            }
          }
          add.retainAll(existing);
        }
        if (!add.isEmpty()) {
          String zoneGroup = group;
          api.mutate(
              "instanceGroups.addInstances",
              () ->
                  c.groups()
                      .addInstancesCallable()
                      .call(
                          AddInstancesInstanceGroupRequest.newBuilder()
                              .setProject(c.project())
                              .setZone(zone)
                              .setInstanceGroup(zoneGroup)
                              .setInstanceGroupsAddInstancesRequestResource(
                                  InstanceGroupsAddInstancesRequest.newBuilder()
                                      .addAllInstances(references(add)))
                              .build()));
        }
        if (!remove.isEmpty()) {
          api.mutate(
              "instanceGroups.removeInstances",
              () ->
                  c.groups()
                      .removeInstancesCallable()
                      .call(
                          RemoveInstancesInstanceGroupRequest.newBuilder()
                              .setProject(c.project())
                              .setZone(zone)
                              .setInstanceGroup(group)
                              .setInstanceGroupsRemoveInstancesRequestResource(
                                  InstanceGroupsRemoveInstancesRequest.newBuilder()
                                      .addAllInstances(references(remove)))
                              .build()));
        }
        if (!add.isEmpty() || have.stream().anyMatch(want::contains)) { // it ends with members
          links.add(c.zonalLink(zone, "instanceGroups", group));
        }
        Set<String> now = new TreeSet<>(have);
        now.removeAll(remove);
        now.addAll(add);
        if (now.equals(want)) { // a VM that is gone is looked for again next time
          verified.put(group + "@" + zone, new Verified(Set.copyOf(want), System.nanoTime()));
        }
      }
    } finally {
      lock.unlock();
    }
    return links;
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
   * Deletes the cluster's groups that nothing uses any more (Compute refuses while a backend
   * service refers to one: that group stays for the Services that still use it).
   */
  void deleteUnused(String cluster) throws ProviderException {
    String group = GcpNames.instanceGroup(cluster);
    lock.lock();
    try {
      verified.clear();
      for (String zone : zones()) {
        if (api.get("instanceGroups.get", () -> c.groups().get(c.project(), zone, group))
            .isPresent()) {
          api.delete(
              "instanceGroups.delete",
              () ->
                  c.groups()
                      .deleteCallable()
                      .call(
                          DeleteInstanceGroupRequest.newBuilder()
                              .setProject(c.project())
                              .setZone(zone)
                              .setInstanceGroup(group)
                              .build()));
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** The network tags every one of {@code byZone}'s instances carries. */
  List<String> commonTags(Map<String, List<String>> byZone) throws ProviderException {
    Set<String> common = null;
    for (Map.Entry<String, List<String>> e : new TreeMap<>(byZone).entrySet()) {
      Set<String> names = new HashSet<>(e.getValue());
      for (Instance vm : instances(e.getKey())) {
        if (names.contains(vm.getName())) {
          Set<String> tags = new LinkedHashSet<>(vm.getTags().getItemsList());
          if (common == null) {
            common = tags;
          } else {
            common.retainAll(tags);
          }
        }
      }
    }
    return common == null ? List.of() : List.copyOf(new TreeSet<>(common));
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

  /** Which of {@code links} are instances Compute has. */
  private Set<String> existing(String zone, Set<String> links) throws ProviderException {
    Set<String> out = new HashSet<>();
    for (Instance vm : instances(zone)) {
      String link = c.zonalLink(zone, "instances", vm.getName());
      if (links.contains(link)) {
        out.add(link);
      }
    }
    return out;
  }

  private List<Instance> instances(String zone) throws ProviderException {
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
    return links.stream().map(l -> InstanceReference.newBuilder().setInstance(l).build()).toList();
  }
}
