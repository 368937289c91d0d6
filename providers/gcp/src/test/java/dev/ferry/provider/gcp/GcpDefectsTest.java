package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.InstanceGroup;
import com.google.protobuf.Message;
import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.ProviderException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * One test per defect of issue 33, each on the GKE-shaped project and judged by the fake's rules
 * and the security property ({@link Exposure}), not by the provider's own idea. Written against the
 * SPI and the fake only, so the same class ran against the provider before the fix (see the issue's
 * closing note for which failed there, and how).
 */
class GcpDefectsTest {

  private static final String CLUSTER = "prod";
  private static final String LB_TYPE = "networking.gke.io/load-balancer-type";
  private static final String TIER = "cloud.google.com/network-tier";

  private final ComputeFake fake = GcpFixture.start();
  private final List<String> warnings = new ArrayList<>();
  private final Map<String, LoadBalancerPlan> plans = new HashMap<>();
  private GcpProvider provider = provider(Map.of());

  private GcpProvider provider(Map<String, String> settings) {
    Map<String, String> all = new HashMap<>(GcpFixture.settings(fake));
    all.putAll(settings);
    return GcpProviderFactory.create(
        ProviderContext.builder(CLUSTER)
            .settings(all)
            .events((ref, reason, message) -> warnings.add(reason + ": " + message))
            .build(),
        Duration.ofMillis(5),
        600_000);
  }

  @AfterEach
  void close() {
    provider.close();
    fake.close();
  }

  private static LoadBalancerRef ref(int i) {
    return new LoadBalancerRef(CLUSTER, "shop", "web-" + i, "uid-" + i);
  }

  /** The nodes GKE put in its groups (0-2), as the cluster's Nodes would name them. */
  private static List<Backend> gkeNodes() {
    return List.of(GcpFixture.backend(0), GcpFixture.backend(1), GcpFixture.backend(2));
  }

  private LoadBalancerPlan plan(LoadBalancerRef ref, List<Backend> nodes, Listener... listeners) {
    return LoadBalancerPlan.builder(
            ref,
            listeners.length == 0
                ? List.of(new Listener("https", Protocol.TCP, 443, 30443))
                : List.of(listeners),
            new HealthCheck(
                HealthCheck.Type.HTTP,
                10256,
                "/healthz",
                Duration.ofSeconds(8),
                Duration.ofSeconds(1),
                1,
                3))
        .backends(nodes)
        .build();
  }

  private String ensure(LoadBalancerPlan plan) throws ProviderException {
    plans.put(plan.ref().uid(), plan);
    return provider.ensure(plan).ingress().get(0).ip().orElseThrow();
  }

  private <T extends Message> List<T> ferry(String collection, Class<T> type) {
    return fake.ferrys(collection, type);
  }

  private List<String> exposure() {
    return Exposure.violations(fake, plans, GkeProject.clusterVms(fake));
  }

  @Test
  @DisplayName(
      "1: an internal TCP+UDP Service gets its address: two INTERNAL rules on one address of"
          + " purpose SHARED_LOADBALANCER_VIP")
  void internalTcpAndUdp() throws Exception {
    LoadBalancerPlan dns =
        plan(
                ref(1),
                gkeNodes(),
                new Listener("dns", Protocol.UDP, 53, 30053),
                new Listener("dns-tcp", Protocol.TCP, 53, 30054))
            .toBuilder()
            .annotations(Map.of(LB_TYPE, "Internal"))
            .build();
    String ip = ensure(dns);
    assertThat(ferry("forwardingRules", ForwardingRule.class))
        .hasSize(2)
        .allSatisfy(r -> assertThat(r.getIPAddress()).isEqualTo(ip))
        .allSatisfy(r -> assertThat(r.getLoadBalancingScheme()).isEqualTo("INTERNAL"));
    assertThat(ferry("addresses", Address.class))
        .singleElement()
        .satisfies(a -> assertThat(a.getPurpose()).isEqualTo("SHARED_LOADBALANCER_VIP"));
  }

  @Test
  @DisplayName(
      "2: one Service's 0.0.0.0/0 on 443 opens 443 only at its own address: another Service's"
          + " source ranges on 443 still hold (destinationRanges = the LB IP)")
  void firewallsAtTheirAddressOnly() throws Exception {
    String open = ensure(plan(ref(1), gkeNodes()));
    ensure(plan(ref(2), gkeNodes()).toBuilder().sourceRanges(List.of("203.0.113.0/24")).build());
    assertThat(exposure()).isEmpty();
    assertThat(
            ferry("firewalls", Firewall.class).stream()
                .filter(f -> f.getSourceRangesList().contains("0.0.0.0/0"))
                .toList())
        .singleElement()
        .satisfies(f -> assertThat(f.getDestinationRangesList()).containsExactly(open));
  }

  @Test
  @DisplayName(
      "3: a Service with no node Compute can place gets no firewall with empty targetTags (which"
          + " would apply to every VM of the network)")
  void noFirewallWithoutTargets() throws Exception {
    Backend metal = new Backend("metal-1", "", "10.132.0.99", "");
    try {
      ensure(plan(ref(1), List.of(metal)));
    } catch (ProviderException e) {
      // refusing is fine too; opening every VM is not
    }
    assertThat(ferry("firewalls", Firewall.class))
        .allSatisfy(f -> assertThat(f.getTargetTagsList()).isNotEmpty());
    assertThat(exposure()).isEmpty();
  }

  @Test
  @DisplayName(
      "4: IPv6-only source ranges open nothing (no rule without sources, which Compute reads as"
          + " 0.0.0.0/0); the Service gets a Warning naming the field")
  void ipv6OnlyRangesNeverWiden() throws Exception {
    ensure(plan(ref(1), gkeNodes()).toBuilder().sourceRanges(List.of("2001:db8::/32")).build());
    assertThat(exposure()).isEmpty();
    assertThat(ferry("firewalls", Firewall.class))
        .noneSatisfy(f -> assertThat(f.getSourceRangesList()).contains("0.0.0.0/0"));
    assertThat(warnings).anySatisfy(w -> assertThat(w).contains("spec.loadBalancerSourceRanges"));
  }

  @Test
  @DisplayName(
      "5: the firewalls target GKE's node tag, not http-server, which the nodes share with a VM"
          + " outside the cluster")
  void clusterTagOnly() throws Exception {
    ensure(plan(ref(1), gkeNodes()));
    assertThat(ferry("firewalls", Firewall.class))
        .isNotEmpty()
        .allSatisfy(f -> assertThat(f.getTargetTagsList()).containsExactly(GkeProject.NODE_TAG));
    assertThat(exposure()).isEmpty();
  }

  @Test
  @DisplayName("6: backend groups are full URLs (Compute refuses partial ones)")
  void fullGroupUrls() throws Exception {
    List<Backend> pool = List.of(GcpFixture.node(fake, 30), GcpFixture.node(fake, 31));
    ensure(plan(ref(1), pool));
    assertThat(ferry("backendServices", BackendService.class))
        .singleElement()
        .satisfies(
            s ->
                assertThat(s.getBackendsList())
                    .hasSize(2)
                    .allSatisfy(
                        b -> assertThat(b.getGroup()).startsWith("https://www.googleapis.com/")));
  }

  @Test
  @DisplayName(
      "7: nodes already in GKE's load-balanced k8s-ig groups are served through those groups,"
          + " not put in a second load-balanced group (instanceInMultipleLoadBalancedIgs)")
  void reusesGkeGroups() throws Exception {
    ensure(plan(ref(1), gkeNodes()));
    assertThat(ferry("instanceGroups", InstanceGroup.class)).isEmpty();
    assertThat(ferry("backendServices", BackendService.class).get(0).getBackendsList())
        .allSatisfy(
            b -> assertThat(b.getGroup()).endsWith("/instanceGroups/" + GkeProject.GKE_GROUP));
    // a new node GKE has not added yet is added to GKE's group of its zone; GKE adding it at the
    // same time (memberAlreadyExists) is no error
    Backend fresh = GcpFixture.node(fake, 3);
    String group =
        GkeProject.project()
            + "/zones/"
            + GkeProject.zoneOf(3)
            + "/instanceGroups/"
            + GkeProject.GKE_GROUP;
    fake.beforeNextAddInstances(
        () ->
            fake.addMembers(
                group,
                List.of(
                    GkeProject.project()
                        + "/zones/"
                        + GkeProject.zoneOf(3)
                        + "/instances/"
                        + fresh.nodeName())));
    List<Backend> more = new ArrayList<>(gkeNodes());
    more.add(fresh);
    provider.updateBackends(ref(1), more);
    assertThat(fake.membersOf(group))
        .filteredOn(l -> l.endsWith("/" + fresh.nodeName()))
        .hasSize(1);
  }

  @Test
  @DisplayName(
      "8: the user's STANDARD address gets a STANDARD rule; asking Premium of it is a Warning"
          + " naming cloud.google.com/network-tier, and nothing is made")
  void networkTier() throws Exception {
    LoadBalancerPlan standard =
        plan(ref(1), gkeNodes()).toBuilder()
            .requestedIp(Optional.of(GkeProject.STANDARD_IP))
            .build();
    assertThat(ensure(standard)).isEqualTo(GkeProject.STANDARD_IP);
    assertThat(ferry("forwardingRules", ForwardingRule.class))
        .singleElement()
        .satisfies(r -> assertThat(r.getNetworkTier()).isEqualTo("STANDARD"));
    provider.ensureDeleted(ref(1));
    LoadBalancerPlan clash = standard.toBuilder().annotations(Map.of(TIER, "Premium")).build();
    assertThatThrownBy(() -> ensure(clash))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e -> assertThat(e.violations().get(0).field()).contains(TIER));
    assertThat(ferry("forwardingRules", ForwardingRule.class)).isEmpty();
    assertThat(ferry("addresses", Address.class)).isEmpty();
  }

  @Test
  @DisplayName("9: forwarding rules and addresses carry their labels, set through setLabels")
  void labels() throws Exception {
    ensure(plan(ref(1), gkeNodes()));
    assertThat(ferry("forwardingRules", ForwardingRule.class).get(0).getLabelsMap())
        .containsEntry("ferry-cluster", CLUSTER)
        .containsEntry("ferry-service-uid", "uid-1");
    assertThat(ferry("addresses", Address.class).get(0).getLabelsMap())
        .containsEntry("ferry-service-uid", "uid-1");
  }

  @Test
  @DisplayName(
      "10: a requested IP Compute refuses (in use: 409 in the operation; not the project's: 400)"
          + " is an InvalidPlan naming spec.loadBalancerIP, with nothing half-made")
  void requestedIpRefused() throws Exception {
    String taken = ensure(plan(ref(1), gkeNodes()));
    for (String ip : List.of(taken, "8.8.8.8")) {
      LoadBalancerPlan asks =
          plan(ref(2), gkeNodes()).toBuilder().requestedIp(Optional.of(ip)).build();
      assertThatThrownBy(() -> ensure(asks))
          .as(ip)
          .isInstanceOfSatisfying(
              ProviderException.InvalidPlan.class,
              e -> assertThat(e.violations().get(0).field()).isEqualTo("spec.loadBalancerIP"));
    }
    assertThat(ferry("forwardingRules", ForwardingRule.class)).hasSize(1);
    assertThat(ferry("addresses", Address.class)).hasSize(1);
  }

  @Test
  @DisplayName(
      "11: an internal Service in the custom-mode VPC gets the network's subnet of the region"
          + " when it names none")
  void customModeSubnet() throws Exception {
    ensure(plan(ref(1), gkeNodes()).toBuilder().annotations(Map.of(LB_TYPE, "Internal")).build());
    assertThat(ferry("forwardingRules", ForwardingRule.class).get(0).getSubnetwork())
        .endsWith("/subnetworks/" + GkeProject.SUBNET);
  }

  @Test
  @DisplayName("12: more than 1,000 nodes in a zone are split over groups of at most 1,000")
  void groupsCapped() throws Exception {
    fake.pageSize(500);
    List<Backend> pool = new ArrayList<>();
    for (int i = 0; i < 1001; i++) {
      pool.add(GcpFixture.node(fake, 100 + 2 * i)); // all in the first zone
    }
    ensure(plan(ref(1), pool));
    List<InstanceGroup> groups = ferry("instanceGroups", InstanceGroup.class);
    assertThat(groups).hasSize(2);
    int members = 0;
    for (InstanceGroup g : groups) {
      int size = fake.membersOf(g.getSelfLink()).size();
      assertThat(size).isLessThanOrEqualTo(1000);
      members += size;
    }
    assertThat(members).isEqualTo(1001);
  }

  @Test
  @DisplayName(
      "13: every mutating request carries a requestId, the same on a retry; two Services share"
          + " one firewall for Google's probers")
  void requestIdsAndSharedProberFirewall() throws Exception {
    ensure(plan(ref(1), gkeNodes()));
    ensure(plan(ref(2), gkeNodes()));
    assertThat(fake.mutations()).isNotEmpty().allSatisfy(m -> assertThat(m).doesNotEndWith(" -"));
    assertThat(
            ferry("firewalls", Firewall.class).stream()
                .filter(f -> Exposure.PROBERS.containsAll(f.getSourceRangesList()))
                .toList())
        .as("one firewall for the probers to kube-proxy's port, not one per Service")
        .hasSize(1);
  }

  @Test
  @DisplayName("13: a retried POST carries the requestId of its first attempt")
  void retriedPostSameRequestId() throws Exception {
    ensure(plan(ref(1), gkeNodes()));
    int before = fake.mutations().size();
    fake.throttleNextMutation(1);
    ensure(plan(ref(2), gkeNodes()));
    List<String> posts =
        fake.mutations().subList(before, fake.mutations().size()).stream()
            .filter(m -> m.startsWith("POST"))
            .toList();
    // the throttled first POST and its retry: same path, same requestId
    assertThat(posts.get(0)).doesNotEndWith(" -").isEqualTo(posts.get(1));
  }
}
