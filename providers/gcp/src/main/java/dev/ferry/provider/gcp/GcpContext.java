package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.AddressesClient;
import com.google.cloud.compute.v1.FirewallsClient;
import com.google.cloud.compute.v1.ForwardingRulesClient;
import com.google.cloud.compute.v1.GlobalOperationsClient;
import com.google.cloud.compute.v1.InstanceGroupsClient;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.RegionBackendServicesClient;
import com.google.cloud.compute.v1.RegionHealthChecksClient;
import com.google.cloud.compute.v1.RegionOperationsClient;
import com.google.cloud.compute.v1.RegionsClient;
import com.google.cloud.compute.v1.SubnetworksClient;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import java.util.List;

/**
 * Where Ferry builds (project, region, network) and the Compute clients it builds with.
 *
 * @param network the VPC network's link, e.g. {@code global/networks/default}
 * @param subnetwork the subnet internal load balancers take their address from when the Service
 *     names none; empty for the network's one subnet in the region
 * @param nodeTags the nodes' network tags the firewalls target; empty to choose each node's own
 *     cluster tag as upstream does (see {@link GcpNodeTags})
 */
record GcpContext(
    String project,
    String region,
    String network,
    String subnetwork,
    List<String> nodeTags,
    AddressesClient addresses,
    ForwardingRulesClient rules,
    RegionBackendServicesClient backendServices,
    RegionHealthChecksClient healthChecks,
    FirewallsClient firewalls,
    InstanceGroupsClient groups,
    InstancesClient instances,
    RegionsClient regions,
    SubnetworksClient subnetworks,
    RegionOperationsClient regionOperations,
    ZoneOperationsClient zoneOperations,
    GlobalOperationsClient globalOperations)
    implements AutoCloseable {

  /** The operation read again where it runs: a zone's, a region's or the project's. */
  Operation poll(Operation op) {
    if (!op.getZone().isEmpty()) {
      return zoneOperations.get(project, last(op.getZone()), op.getName());
    }
    if (!op.getRegion().isEmpty()) {
      return regionOperations.get(project, last(op.getRegion()), op.getName());
    }
    return globalOperations.get(project, op.getName());
  }

  /** A link's resource part, {@code projects/...}, to compare links of any host and version. */
  static String relative(String link) {
    int at = link.indexOf("projects/");
    return at < 0 ? link : link.substring(at);
  }

  static String last(String link) {
    return link.substring(link.lastIndexOf('/') + 1);
  }

  /** How Compute writes links, and how it wants some given (a backend's group: full URLs only). */
  static final String GOOGLEAPIS = "https://www.googleapis.com/compute/v1/";

  /** A relative link made full, as Compute writes it. */
  static String full(String relative) {
    return GOOGLEAPIS + relative(relative);
  }

  String regionalLink(String collection, String name) {
    return "projects/" + project + "/regions/" + region + "/" + collection + "/" + name;
  }

  String zonalLink(String zone, String collection, String name) {
    return "projects/" + project + "/zones/" + zone + "/" + collection + "/" + name;
  }

  @Override
  public void close() {
    for (AutoCloseable c :
        List.<AutoCloseable>of(
            addresses,
            rules,
            backendServices,
            healthChecks,
            firewalls,
            groups,
            instances,
            regions,
            subnetworks,
            regionOperations,
            zoneOperations,
            globalOperations)) {
      try {
        c.close();
      } catch (Exception e) {
        // closing a client releases threads; nothing in the cloud depends on it
      }
    }
  }
}
