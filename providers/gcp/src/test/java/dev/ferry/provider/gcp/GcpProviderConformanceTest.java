package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.HealthCheck;
import com.google.protobuf.Message;
import dev.ferry.spi.Backend;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.Scheme;
import dev.ferry.tck.CloudView;
import dev.ferry.tck.ProviderConformanceKit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;

/**
 * The GCP provider against the conformance kit, on the Compute fake seeded as a GKE project:
 * operations go PENDING, RUNNING, DONE as Compute's do, lists page. After every case, the security
 * property holds: computed from the fake's firewalls, each Service's ports are open only from its
 * source ranges, only at its address, only on the cluster's VMs.
 */
class GcpProviderConformanceTest extends ProviderConformanceKit {

  // one fake for the class: the kit deletes what each test made after this class's own clean-up
  // a dual-stack GKE cluster's project: the nodes' subnet has an external IPv6 range
  private static final ComputeFake fake = GcpFixture.start();

  static {
    GkeProject.dualStack(fake);
  }

  // a node pool GKE's own groups do not hold (the kit's backends are exact, which Ferry's own
  // groups are; GKE's groups are GKE's, and their reuse is GcpProviderTest's)
  private static final List<Backend> nodes =
      List.of(GcpFixture.node(fake, 10), GcpFixture.node(fake, 11), GcpFixture.node(fake, 12));

  @AfterAll
  static void stopFake() {
    fake.close();
  }

  // the last plan ensured of every Service not deleted since, for the security property
  private final Map<String, LoadBalancerPlan> plans = new ConcurrentHashMap<>();

  @Override
  protected LoadBalancerProvider newProvider() {
    GcpProvider p = GcpFixture.provider(fake, ProviderContext.builder(clusterName()));
    p.api().observer(cloudCalls::mutated);
    return new Recording(p, plans);
  }

  @AfterEach
  void securityProperty() {
    assertThat(Exposure.violations(fake, plans, GkeProject.clusterVms(fake))).isEmpty();
  }

  /** The provider, remembering each Service's last plan. */
  private record Recording(GcpProvider p, Map<String, LoadBalancerPlan> plans)
      implements LoadBalancerProvider {
    @Override
    public dev.ferry.spi.Capabilities capabilities() {
      return p.capabilities();
    }

    @Override
    public java.util.Optional<dev.ferry.spi.LoadBalancerStatus> find(LoadBalancerRef ref)
        throws dev.ferry.spi.ProviderException {
      return p.find(ref);
    }

    @Override
    public dev.ferry.spi.LoadBalancerStatus ensure(LoadBalancerPlan plan)
        throws dev.ferry.spi.ProviderException {
      plans.put(plan.ref().uid(), plan);
      return p.ensure(plan);
    }

    @Override
    public void updateBackends(LoadBalancerRef ref, List<Backend> backends)
        throws dev.ferry.spi.ProviderException {
      p.updateBackends(ref, backends);
    }

    @Override
    public void ensureDeleted(LoadBalancerRef ref) throws dev.ferry.spi.ProviderException {
      p.ensureDeleted(ref);
      plans.remove(ref.uid());
    }

    @Override
    public void ensureRetained(LoadBalancerRef ref) throws dev.ferry.spi.ProviderException {
      p.ensureRetained(ref);
      plans.remove(ref.uid());
    }

    @Override
    public List<dev.ferry.spi.RetainedAddress> listRetained(String clusterName)
        throws dev.ferry.spi.ProviderException {
      return p.listRetained(clusterName);
    }

    @Override
    public void deleteRetained(String clusterName, String id)
        throws dev.ferry.spi.ProviderException {
      p.deleteRetained(clusterName, id);
    }

    @Override
    public List<LoadBalancerRef> listOwned(String clusterName)
        throws dev.ferry.spi.ProviderException {
      return p.listOwned(clusterName);
    }

    @Override
    public void close() {
      p.close();
    }
  }

  @Override
  protected List<Backend> backends(int count) {
    return nodes.subList(0, count);
  }

  /** Another cluster's nodes are other VMs: Compute puts a VM in one load-balanced group only. */
  @Override
  protected List<Backend> otherClusterBackends(int count) {
    return other.subList(0, count);
  }

  private static final List<Backend> other = List.of(GcpFixture.node(fake, 20));

  @Override
  protected CloudView cloud() {
    return new GcpCloudView(fake);
  }

  /** The fake's state as the kit sees a load balancer, read without the provider. */
  static final class GcpCloudView implements CloudView {
    private final ComputeFake fake;

    GcpCloudView(ComputeFake fake) {
      this.fake = fake;
    }

    <T extends Message> List<T> owned(String collection, Class<T> type, LoadBalancerRef ref) {
      List<T> out = new ArrayList<>();
      for (Message m : fake.all(collection)) {
        String description =
            (String) m.getField(m.getDescriptorForType().findFieldByName("description"));
        if (description.contains("\"" + ref.uid() + "\"")) {
          out.add(type.cast(m));
        }
      }
      return out;
    }

    List<ForwardingRule> rules(LoadBalancerRef ref) {
      return owned("forwardingRules", ForwardingRule.class, ref);
    }

    List<BackendService> services(LoadBalancerRef ref) {
      return owned("backendServices", BackendService.class, ref);
    }

    @Override
    public int loadBalancerCount(LoadBalancerRef ref) {
      // one load balancer is the rules on one address per family, to the same backend services
      Map<String, Long> perFamily =
          rules(ref).stream()
              .map(ForwardingRule::getIPAddress)
              .distinct()
              .collect(
                  Collectors.groupingBy(
                      ip -> ip.contains(":") ? "v6" : "v4", Collectors.counting()));
      return perFamily.values().stream().mapToInt(Long::intValue).max().orElse(0);
    }

    @Override
    public Set<String> registeredBackends(LoadBalancerRef ref) {
      Set<String> out = new HashSet<>();
      for (ForwardingRule r : rules(ref)) {
        BackendService s = (BackendService) fake.get(r.getBackendService());
        s.getBackendsList()
            .forEach(
                b ->
                    fake.membersOf(b.getGroup())
                        .forEach(i -> out.add(i.substring(i.lastIndexOf('/') + 1))));
      }
      return out;
    }

    @Override
    public Set<String> listeners(LoadBalancerRef ref) {
      Set<String> out = new HashSet<>();
      for (ForwardingRule r : rules(ref)) {
        r.getPortsList().forEach(p -> out.add(r.getIPProtocol() + "/" + p));
      }
      return out;
    }

    @Override
    public Probe healthProbe(LoadBalancerRef ref) {
      Set<Probe> probes = new HashSet<>();
      Set<Integer> ports =
          rules(ref).stream()
              .flatMap(r -> r.getPortsList().stream())
              .map(Integer::valueOf)
              .collect(Collectors.toSet());
      for (BackendService s : services(ref)) {
        assertThat(s.getHealthChecksList()).hasSize(1);
        HealthCheck h = (HealthCheck) fake.get(s.getHealthChecks(0));
        boolean http = h.getType().equals("HTTP");
        int port = http ? h.getHttpHealthCheck().getPort() : h.getTcpHealthCheck().getPort();
        probes.add(
            new Probe(
                http ? dev.ferry.spi.HealthCheck.Type.HTTP : dev.ferry.spi.HealthCheck.Type.TCP,
                // a check of one of the rule's own ports is a traffic-port check
                ports.contains(port) ? dev.ferry.spi.HealthCheck.TRAFFIC_PORT : port,
                http ? h.getHttpHealthCheck().getRequestPath() : "",
                Duration.ofSeconds(h.getCheckIntervalSec())));
      }
      assertThat(probes).as("every backend service probes alike").hasSize(1);
      return probes.iterator().next();
    }

    @Override
    public Set<String> sourceRanges(LoadBalancerRef ref) {
      return owned("firewalls", Firewall.class, ref).stream()
          .filter(f -> !Exposure.PROBERS.containsAll(f.getSourceRangesList()))
          .flatMap(f -> f.getSourceRangesList().stream())
          .collect(Collectors.toSet());
    }

    /** The sources of the client firewall whose destination is the family's address. */
    @Override
    public Set<String> sourceRanges(LoadBalancerRef ref, dev.ferry.spi.IpFamily family) {
      return owned("firewalls", Firewall.class, ref).stream()
          .filter(f -> !Exposure.PROBERS.containsAll(f.getSourceRangesList()))
          .filter(
              f ->
                  f.getDestinationRangesList().stream()
                      .allMatch(d -> dev.ferry.spi.IpFamily.of(d) == family))
          .flatMap(f -> f.getSourceRangesList().stream())
          .collect(Collectors.toSet());
    }

    @Override
    public Scheme scheme(LoadBalancerRef ref) {
      return rules(ref).get(0).getLoadBalancingScheme().equals("INTERNAL")
          ? Scheme.INTERNAL
          : Scheme.EXTERNAL;
    }

    @Override
    public int ownedResources(LoadBalancerRef ref) {
      return rules(ref).size()
          + services(ref).size()
          + owned("healthChecks", HealthCheck.class, ref).size()
          + owned("firewalls", Firewall.class, ref).size()
          + owned("addresses", Address.class, ref).size();
    }

    Map<String, Long> calls() {
      return fake.calls();
    }
  }
}
