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
import com.google.cloud.compute.v1.ListInstanceGroupsRequest;
import com.google.cloud.compute.v1.ListInstancesInstanceGroupsRequest;
import com.google.cloud.compute.v1.ListInstancesRequest;
import com.google.cloud.compute.v1.RemoveInstancesInstanceGroupRequest;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Compute's calls on a region's zones, their VMs and unmanaged instance groups: list (paged),
 * members, insert, add and remove members, delete. A member another writer added already ({@code
 * memberAlreadyExists}) is success; a VM Compute will not put in a second load-balanced group is
 * said plainly.
 */
final class GcpGroups {

  private final GcpContext c;
  private final GcpApi api;
  private final ProviderEvents events;
  private volatile List<String> zones;

  GcpGroups(GcpContext c, GcpApi api, ProviderEvents events) {
    this.c = c;
    this.api = api;
    this.events = events;
  }

  /** Deletes a group; false while a backend service still uses it. */
  boolean delete(String zone, String group) throws ProviderException {
    return api.delete(
        "instanceGroups.delete",
        id ->
            c.groups()
                .deleteCallable()
                .call(
                    DeleteInstanceGroupRequest.newBuilder()
                        .setProject(c.project())
                        .setZone(zone)
                        .setInstanceGroup(group)
                        .setRequestId(id)
                        .build()));
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

  void insert(LoadBalancerRef ref, String zone, String name) throws ProviderException {
    // the network is output only: a group is in the network of its first VM
    InstanceGroup g =
        InstanceGroup.newBuilder()
            .setName(name)
            .setDescription(GcpOwner.shared(ref.cluster()))
            .build();
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
        () ->
            api.get("instanceGroups.get", () -> c.groups().get(c.project(), zone, name))
                .isPresent());
  }

  void add(LoadBalancerRef ref, String zone, String group, Set<String> vms)
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
      if (GcpErrors.refusedAs(e, "memberAlreadyExists")) {
        // another writer (GKE's controller, or this one before a crash) added some: add the rest
        Set<String> rest = new TreeSet<>(vms);
        rest.removeAll(members(zone, group));
        if (!rest.isEmpty() && !rest.equals(vms)) {
          add(ref, zone, group, rest);
        }
        return;
      }
      if (GcpErrors.refusedAs(e, "instanceInMultipleLoadBalancedIgs")) {
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
            + GcpNodes.GKE_GROUP_PREFIX
            + "<uid> groups where a zone has one, otherwise its own; remove the nodes from the other"
            + " group or its load balancer ("
            + e.getMessage()
            + ")";
    events.warning(ref, "NodesInAnotherLoadBalancer", message);
    return new ProviderException.Transient(message, e);
  }

  void remove(String zone, String group, Set<String> vms) throws ProviderException {
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

  List<InstanceGroup> list(String zone, String filter) throws ProviderException {
    return api.pages(
        "instanceGroups.list",
        t ->
            c.groups()
                .listCallable()
                .call(
                    ListInstanceGroupsRequest.newBuilder()
                        .setProject(c.project())
                        .setZone(zone)
                        .setFilter(filter)
                        .setPageToken(t)
                        .build()),
        InstanceGroupList::getItemsList,
        InstanceGroupList::getNextPageToken);
  }

  Set<String> members(String zone, String group) throws ProviderException {
    Set<String> out = new TreeSet<>();
    api.pages(
            "instanceGroups.listInstances",
            t ->
                c.groups()
                    .listInstancesCallable()
                    .call(
                        ListInstancesInstanceGroupsRequest.newBuilder()
                            .setProject(c.project())
                            .setZone(zone)
                            .setInstanceGroup(group)
                            .setPageToken(t)
                            .setInstanceGroupsListInstancesRequestResource(
                                InstanceGroupsListInstancesRequest.newBuilder()
                                    .setInstanceState("ALL"))
                            .build()),
            InstanceGroupsListInstances::getItemsList,
            InstanceGroupsListInstances::getNextPageToken)
        .forEach(i -> out.add(GcpContext.relative(i.getInstance())));
    return out;
  }

  /** The VMs of a zone. */
  List<Instance> instances(String zone) throws ProviderException {
    return api.pages(
        "instances.list",
        t ->
            c.instances()
                .listCallable()
                .call(
                    ListInstancesRequest.newBuilder()
                        .setProject(c.project())
                        .setZone(zone)
                        .setPageToken(t)
                        .build()),
        InstanceList::getItemsList,
        InstanceList::getNextPageToken);
  }

  private static List<InstanceReference> references(Set<String> links) {
    return links.stream()
        .map(l -> InstanceReference.newBuilder().setInstance(GcpContext.full(l)).build())
        .toList();
  }
}
