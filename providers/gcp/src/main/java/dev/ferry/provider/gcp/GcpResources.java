package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.BackendServiceList;
import com.google.cloud.compute.v1.DeleteAddressRequest;
import com.google.cloud.compute.v1.DeleteFirewallRequest;
import com.google.cloud.compute.v1.DeleteForwardingRuleRequest;
import com.google.cloud.compute.v1.DeleteRegionBackendServiceRequest;
import com.google.cloud.compute.v1.DeleteRegionHealthCheckRequest;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.ForwardingRuleList;
import com.google.cloud.compute.v1.HealthCheck;
import com.google.cloud.compute.v1.HealthCheckList;
import com.google.cloud.compute.v1.ListForwardingRulesRequest;
import com.google.cloud.compute.v1.ListRegionBackendServicesRequest;
import com.google.cloud.compute.v1.ListRegionHealthChecksRequest;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Compute resources of a load balancer read and deleted by name (a 404 is "absent", a delete of
 * the absent succeeds), and lists read page by page.
 */
final class GcpResources {

  /** A kind of resource: how to read one by name and how to delete one. */
  record Kind<T extends com.google.protobuf.Message>(
      String collection, Read<T> read, Delete delete) {}

  interface Read<T> {
    Optional<T> get(String name) throws ProviderException;
  }

  interface Delete {
    /** False when Compute refuses because something still uses it. */
    boolean delete(String name) throws ProviderException;
  }

  final Kind<ForwardingRule> rules;
  final Kind<BackendService> backendServices;
  final Kind<HealthCheck> healthChecks;
  final Kind<Firewall> firewalls;
  final Kind<Address> addresses;

  private final GcpContext c;
  private final GcpApi api;
  private final ProviderEvents events;

  GcpResources(GcpContext c, GcpApi api, ProviderEvents events) {
    this.c = c;
    this.api = api;
    this.events = events;
    rules =
        new Kind<>(
            "forwardingRules",
            name ->
                api.get("forwardingRules.get", () -> c.rules().get(c.project(), c.region(), name)),
            name ->
                api.delete(
                    "forwardingRules.delete",
                    id ->
                        c.rules()
                            .deleteCallable()
                            .call(
                                DeleteForwardingRuleRequest.newBuilder()
                                    .setProject(c.project())
                                    .setRegion(c.region())
                                    .setForwardingRule(name)
                                    .setRequestId(id)
                                    .build())));
    backendServices =
        new Kind<>(
            "regionBackendServices",
            name ->
                api.get(
                    "regionBackendServices.get",
                    () -> c.backendServices().get(c.project(), c.region(), name)),
            name ->
                api.delete(
                    "regionBackendServices.delete",
                    id ->
                        c.backendServices()
                            .deleteCallable()
                            .call(
                                DeleteRegionBackendServiceRequest.newBuilder()
                                    .setProject(c.project())
                                    .setRegion(c.region())
                                    .setBackendService(name)
                                    .setRequestId(id)
                                    .build())));
    healthChecks =
        new Kind<>(
            "regionHealthChecks",
            name ->
                api.get(
                    "regionHealthChecks.get",
                    () -> c.healthChecks().get(c.project(), c.region(), name)),
            name ->
                api.delete(
                    "regionHealthChecks.delete",
                    id ->
                        c.healthChecks()
                            .deleteCallable()
                            .call(
                                DeleteRegionHealthCheckRequest.newBuilder()
                                    .setProject(c.project())
                                    .setRegion(c.region())
                                    .setHealthCheck(name)
                                    .setRequestId(id)
                                    .build())));
    firewalls =
        new Kind<>(
            "firewalls",
            name -> api.get("firewalls.get", () -> c.firewalls().get(c.project(), name)),
            name ->
                api.delete(
                    "firewalls.delete",
                    id ->
                        c.firewalls()
                            .deleteCallable()
                            .call(
                                DeleteFirewallRequest.newBuilder()
                                    .setProject(c.project())
                                    .setFirewall(name)
                                    .setRequestId(id)
                                    .build())));
    addresses =
        new Kind<>(
            "addresses",
            name ->
                api.get("addresses.get", () -> c.addresses().get(c.project(), c.region(), name)),
            name ->
                api.delete(
                    "addresses.delete",
                    id ->
                        c.addresses()
                            .deleteCallable()
                            .call(
                                DeleteAddressRequest.newBuilder()
                                    .setProject(c.project())
                                    .setRegion(c.region())
                                    .setAddress(name)
                                    .setRequestId(id)
                                    .build())));
  }

  /**
   * Deletes {@code name} if it exists and names {@code ref} as its owner; answers what it deleted.
   */
  <T extends com.google.protobuf.Message> Optional<T> deleteOwned(
      Kind<T> kind, String name, LoadBalancerRef ref) throws ProviderException {
    Optional<T> found = kind.read().get(name);
    if (found.isEmpty()) {
      return found;
    }
    String description =
        (String)
            found.get().getField(found.get().getDescriptorForType().findFieldByName("description"));
    if (!GcpOwner.owned(description, ref)) {
      events.warning(
          ref,
          "NotOwned",
          kind.collection()
              + " "
              + name
              + " does not name this Service as its owner; Ferry leaves it alone");
      return Optional.empty();
    }
    if (!kind.delete().delete(name)) {
      throw new ProviderException.Transient(
          kind.collection() + " " + name + " is still in use; deleting again later", null);
    }
    return found;
  }

  /** Deletes a cluster-shared resource if it exists; false while something still uses it. */
  <T extends com.google.protobuf.Message> boolean deleteShared(Kind<T> kind, String name)
      throws ProviderException {
    return kind.read().get(name).isEmpty() || kind.delete().delete(name);
  }

  GcpContext context() {
    return c;
  }

  /**
   * The descriptions of {@code addresses} and of the region's checks, backend services and rules.
   */
  List<String> descriptions(List<Address> addresses) throws ProviderException {
    List<String> out = new ArrayList<>();
    addresses.forEach(a -> out.add(a.getDescription()));
    out.addAll(
        api.pages(
            "regionHealthChecks.list",
            t ->
                c.healthChecks()
                    .listCallable()
                    .call(
                        ListRegionHealthChecksRequest.newBuilder()
                            .setProject(c.project())
                            .setRegion(c.region())
                            .setPageToken(t)
                            .build()),
            (HealthCheckList l) ->
                l.getItemsList().stream().map(HealthCheck::getDescription).toList(),
            HealthCheckList::getNextPageToken));
    out.addAll(
        api.pages(
            "regionBackendServices.list",
            t ->
                c.backendServices()
                    .listCallable()
                    .call(
                        ListRegionBackendServicesRequest.newBuilder()
                            .setProject(c.project())
                            .setRegion(c.region())
                            .setPageToken(t)
                            .build()),
            (BackendServiceList l) ->
                l.getItemsList().stream().map(BackendService::getDescription).toList(),
            BackendServiceList::getNextPageToken));
    out.addAll(
        api.pages(
            "forwardingRules.list",
            t ->
                c.rules()
                    .listCallable()
                    .call(
                        ListForwardingRulesRequest.newBuilder()
                            .setProject(c.project())
                            .setRegion(c.region())
                            .setPageToken(t)
                            .build()),
            (ForwardingRuleList l) ->
                l.getItemsList().stream().map(ForwardingRule::getDescription).toList(),
            ForwardingRuleList::getNextPageToken));
    return out;
  }
}
