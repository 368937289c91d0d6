package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.Allowed;
import com.google.cloud.compute.v1.Backend;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.HTTPHealthCheck;
import com.google.cloud.compute.v1.HealthCheck;
import com.google.cloud.compute.v1.InstanceGroup;
import com.google.cloud.compute.v1.Network;
import com.google.cloud.compute.v1.Subnetwork;
import java.util.ArrayList;
import java.util.List;

/**
 * A GKE cluster's project as Ferry meets it, not an empty one: what makes the provider's mistakes
 * show. In region {@link #REGION} (its three real zones, one empty):
 *
 * <ul>
 *   <li>a custom-mode VPC {@link #NETWORK} with one IPv4-only subnet in the region (internal load
 *       balancers must name a subnet there; {@link #dualStack} gives it an external IPv6 range);
 *   <li>the cluster's node VMs, named and tagged as GKE names and tags them ({@link #NODE_TAG}),
 *       also carrying {@code http-server}, which a VM outside the cluster, {@link #OUTSIDER},
 *       carries too;
 *   <li>GKE's own instance groups {@code k8s-ig--<cluster uid>} in the nodes' zones, holding the
 *       nodes and already behind an Ingress's global backend service (so Compute refuses the nodes
 *       in a second load-balanced group);
 *   <li>a STANDARD-tier address the user reserved, {@link #STANDARD_ADDRESS} at {@link
 *       #STANDARD_IP}; GKE's own firewalls.
 * </ul>
 */
public final class GkeProject {

  public static final String PROJECT = "ferry-test";
  public static final String REGION = "europe-west1";
  public static final List<String> ZONES = List.of(REGION + "-b", REGION + "-c", REGION + "-d");

  /** The zones the node pool spans; the third zone stays empty. */
  public static final List<String> NODE_ZONES = ZONES.subList(0, 2);

  public static final String NETWORK = "gke-net";
  public static final String SUBNET = "gke-net-" + REGION;
  public static final String SUBNET_RANGE = "10.132.0.0/20";
  public static final String NODE_TAG = "gke-prod-1a2b3c4d-node";
  public static final String NODE_PREFIX = "gke-prod-default-pool-1a2b3c4d-";
  public static final String GKE_GROUP = "k8s-ig--4f0e2d1c9b8a7f60";
  public static final String INGRESS_SERVICE = "k8s1-4f0e2d1c-default-web-80-9a8b7c6d";
  public static final String OUTSIDER = "bastion";
  public static final String STANDARD_ADDRESS = "shop-standard";
  public static final String STANDARD_IP = "35.206.10.20";

  private GkeProject() {}

  public static String project() {
    return "projects/" + PROJECT;
  }

  public static String networkLink() {
    return project() + "/global/networks/" + NETWORK;
  }

  /** Seeds the project with {@code nodes} node VMs, all in GKE's groups. */
  public static void seed(ComputeFake fake, int nodes) {
    fake.region(PROJECT, REGION, ZONES);
    fake.put(networkLink(), Network.newBuilder().setAutoCreateSubnetworks(false).build());
    fake.put(
        project() + "/regions/" + REGION + "/subnetworks/" + SUBNET,
        Subnetwork.newBuilder()
            .setNetwork(ComputeFake.GOOGLEAPIS + networkLink())
            .setIpCidrRange(SUBNET_RANGE)
            .setRegion(ComputeFake.GOOGLEAPIS + project() + "/regions/" + REGION)
            .build());
    fake.addInstance(PROJECT, ZONES.get(0), OUTSIDER, "http-server");

    String check = project() + "/global/healthChecks/k8s1-4f0e2d1c-default-web-80-9a8b7c6d";
    fake.put(
        check,
        HealthCheck.newBuilder()
            .setType("HTTP")
            .setHttpHealthCheck(HTTPHealthCheck.newBuilder().setPort(30301).setRequestPath("/"))
            .build());
    BackendService.Builder ingress =
        BackendService.newBuilder()
            .setProtocol("HTTP")
            .setLoadBalancingScheme("EXTERNAL")
            .addHealthChecks(ComputeFake.GOOGLEAPIS + check);
    List<List<String>> byZone = new ArrayList<>();
    NODE_ZONES.forEach(z -> byZone.add(new ArrayList<>()));
    for (int i = 0; i < nodes; i++) {
      byZone.get(i % NODE_ZONES.size()).add(node(fake, i));
    }
    for (int z = 0; z < NODE_ZONES.size(); z++) {
      String group = project() + "/zones/" + NODE_ZONES.get(z) + "/instanceGroups/" + GKE_GROUP;
      fake.put(group, InstanceGroup.newBuilder().setDescription("").build());
      fake.addMembers(group, byZone.get(z));
      ingress.addBackends(
          Backend.newBuilder()
              .setGroup(ComputeFake.GOOGLEAPIS + group)
              .setBalancingMode("RATE")
              .setMaxRatePerInstance(100));
    }
    fake.put(project() + "/global/backendServices/" + INGRESS_SERVICE, ingress.build());

    fake.put(
        project() + "/regions/" + REGION + "/addresses/" + STANDARD_ADDRESS,
        Address.newBuilder()
            .setAddress(STANDARD_IP)
            .setAddressType("EXTERNAL")
            .setNetworkTier("STANDARD")
            .setStatus("RESERVED")
            .build());
    for (String[] fw :
        List.of(
            new String[] {"gke-prod-1a2b3c4d-all", "10.8.0.0/14", "all"},
            new String[] {"gke-prod-1a2b3c4d-vms", SUBNET_RANGE, "tcp"})) {
      fake.put(
          project() + "/global/firewalls/" + fw[0],
          Firewall.newBuilder()
              .setNetwork(ComputeFake.GOOGLEAPIS + networkLink())
              .setDirection("INGRESS")
              .setPriority(1000)
              .addSourceRanges(fw[1])
              .addTargetTags(NODE_TAG)
              .addAllowed(Allowed.newBuilder().setIPProtocol(fw[2]))
              .build());
    }
  }

  /** The subnet's external IPv6 range once {@link #dualStack} made it dual-stack. */
  public static final String SUBNET_IPV6_RANGE = "2600:1900:4010:5a::/64";

  /**
   * Makes the nodes' subnet dual-stack with external IPv6 access, as a dual-stack GKE cluster's is
   * (<a href="https://cloud.google.com/kubernetes-engine/docs/concepts/alias-ips#dual_stack">GKE
   * dual-stack</a>: stackType IPV4_IPV6, ipv6AccessType EXTERNAL, a /64 of Google's).
   */
  public static void dualStack(ComputeFake fake) {
    String link = project() + "/regions/" + REGION + "/subnetworks/" + SUBNET;
    Subnetwork s = (Subnetwork) fake.get(link);
    fake.put(
        link,
        s.toBuilder()
            .setStackType("IPV4_IPV6")
            .setIpv6AccessType("EXTERNAL")
            .setExternalIpv6Prefix(SUBNET_IPV6_RANGE)
            .build());
  }

  /** The node VM {@code i} as GKE names and tags it, in its zone. */
  public static String node(ComputeFake fake, int i) {
    return fake.addInstance(PROJECT, zoneOf(i), NODE_PREFIX + i, NODE_TAG, "http-server");
  }

  /** The cluster's VMs: those GKE named as its nodes. */
  public static java.util.Set<String> clusterVms(ComputeFake fake) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (var m : fake.all("instances")) {
      String name = ((com.google.cloud.compute.v1.Instance) m).getName();
      if (name.startsWith(NODE_PREFIX)) {
        out.add(name);
      }
    }
    return out;
  }

  public static String zoneOf(int i) {
    return NODE_ZONES.get(i % NODE_ZONES.size());
  }
}
