package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.HealthCheck;
import com.google.protobuf.Message;
import dev.ferry.spi.Backend;
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
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;

/**
 * The GCP provider against the conformance kit, on the Compute fake (a fresh one per test):
 * operations stay RUNNING for a poll before DONE, as Compute's do.
 */
class GcpProviderConformanceTest extends ProviderConformanceKit {

  // one fake for the class: the kit deletes what each test made after this class's own clean-up
  private static final ComputeFake fake = GcpFixture.start();
  private static final List<Backend> nodes = GcpFixture.nodes(fake, 3);

  @AfterAll
  static void stopFake() {
    fake.close();
  }

  @Override
  protected LoadBalancerProvider newProvider() {
    GcpProvider p = GcpFixture.provider(fake, ProviderContext.builder(clusterName()));
    p.api().observer(cloudCalls::mutated);
    return p;
  }

  @Override
  protected List<Backend> backends(int count) {
    return nodes.subList(0, count);
  }

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
      return (int) rules(ref).stream().map(ForwardingRule::getIPAddress).distinct().count();
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
          .filter(f -> !f.getSourceRangesList().equals(GcpShape.HEALTH_CHECK_RANGES))
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
