package dev.ferry.provider.azure;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.IpFamily;
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
import java.util.Set;
import org.junit.jupiter.api.AfterAll;

/** The Azure provider against the conformance kit, on the ARM fake. */
class AzureProviderConformanceTest extends ProviderConformanceKit {

  // one fake for the class: the kit deletes what each test made after this class's own clean-up
  private static final ArmFake fake = AzureFixture.start();

  static {
    AzureFixture.dualStack(fake); // a dual-stack cluster's network: the kit's IPv6 cases run
  }

  private static final List<Backend> nodes = AzureFixture.nodes(3);

  @AfterAll
  static void stopFake() {
    fake.close();
  }

  @Override
  protected LoadBalancerProvider newProvider() {
    AzureProvider p = AzureFixture.provider(fake, ProviderContext.builder(clusterName()));
    p.arm().observer(cloudCalls::mutated);
    return p;
  }

  @Override
  protected List<Backend> backends(int count) {
    return nodes.subList(0, count);
  }

  @Override
  protected List<Backend> dualStackBackends(int count) {
    return java.util.stream.IntStream.range(0, count)
        .mapToObj(AzureFixture::dualStackNode)
        .toList();
  }

  /** Another cluster's nodes are other NICs: a NIC is behind one public Standard LB only. */
  @Override
  protected List<Backend> otherClusterBackends(int count) {
    return List.of(AzureFixture.node(20), AzureFixture.node(21)).subList(0, count);
  }

  @Override
  protected CloudView cloud() {
    return new AzureCloudView(fake);
  }

  /** The fake's state as the kit sees a load balancer, read without the provider. */
  static final class AzureCloudView implements CloudView {
    private final ArmFake fake;

    AzureCloudView(ArmFake fake) {
      this.fake = fake;
    }

    static boolean mine(JsonNode sub, LoadBalancerRef ref) {
      return AzureNames.owns(ref, sub.get("name").asText());
    }

    /** {@code kind} sub-resources of {@code ref} on every load balancer. */
    List<JsonNode> parts(String kind, LoadBalancerRef ref) {
      List<JsonNode> out = new ArrayList<>();
      for (JsonNode lb : fake.all("loadBalancers")) {
        for (JsonNode sub : lb.path("properties").path(kind)) {
          if (mine(sub, ref)) {
            out.add(sub);
          }
        }
      }
      return out;
    }

    JsonNode byId(String id) {
      String lbId = id.substring(0, id.indexOf("/", id.indexOf("loadBalancers/") + 14));
      JsonNode lb = fake.get(lbId);
      for (JsonNode kind : lb.path("properties")) {
        for (JsonNode sub : kind) {
          if (sub.path("id").asText().equalsIgnoreCase(id)) {
            return sub;
          }
        }
      }
      throw new AssertionError("dangling reference " + id);
    }

    @Override
    public int loadBalancerCount(LoadBalancerRef ref) {
      // a dual-stack Service's IPv6 frontend is the same load balancer's second address
      List<JsonNode> frontends = parts("frontendIPConfigurations", ref);
      long v6 = frontends.stream().filter(f -> f.get("name").asText().endsWith("-IPv6")).count();
      return (int) Math.max(v6, frontends.size() - v6);
    }

    private static boolean ofFamily(JsonNode part, IpFamily family) {
      return part.get("name").asText().endsWith("-IPv6") == (family == IpFamily.IPv6);
    }

    @Override
    public Set<String> registeredBackends(LoadBalancerRef ref, IpFamily family) {
      Set<String> out = new HashSet<>();
      for (JsonNode rule : parts("loadBalancingRules", ref)) {
        if (!ofFamily(rule, family)) {
          continue;
        }
        JsonNode pool =
            byId(rule.path("properties").path("backendAddressPool").path("id").asText());
        pool.path("properties")
            .path("loadBalancerBackendAddresses")
            .forEach(a -> out.add(a.get("name").asText()));
      }
      return out;
    }

    @Override
    public Set<String> sourceRanges(LoadBalancerRef ref, IpFamily family) {
      Set<String> out = new HashSet<>();
      securityRules(ref).stream()
          .filter(r -> ofFamily(r, family))
          .forEach(
              r ->
                  r.path("properties")
                      .path("sourceAddressPrefixes")
                      .forEach(x -> out.add(x.asText())));
      return out;
    }

    @Override
    public Set<String> registeredBackends(LoadBalancerRef ref) {
      Set<String> out = new HashSet<>();
      for (JsonNode rule : parts("loadBalancingRules", ref)) {
        JsonNode pool =
            byId(rule.path("properties").path("backendAddressPool").path("id").asText());
        pool.path("properties")
            .path("loadBalancerBackendAddresses")
            .forEach(a -> out.add(a.get("name").asText()));
      }
      return out;
    }

    @Override
    public Set<String> listeners(LoadBalancerRef ref) {
      Set<String> out = new HashSet<>();
      for (JsonNode rule : parts("loadBalancingRules", ref)) {
        JsonNode p = rule.path("properties");
        out.add(p.path("protocol").asText().toUpperCase() + "/" + p.path("frontendPort").asInt());
      }
      return out;
    }

    @Override
    public Probe healthProbe(LoadBalancerRef ref) {
      Set<Probe> probes = new HashSet<>();
      for (JsonNode rule : parts("loadBalancingRules", ref)) {
        JsonNode p =
            byId(rule.path("properties").path("probe").path("id").asText()).path("properties");
        boolean http = p.path("protocol").asText().equalsIgnoreCase("Http");
        int port = p.path("port").asInt();
        // a TCP probe of a NodePort is a traffic-port check
        boolean traffic = !http && port >= 30000 && port <= 32767;
        probes.add(
            new Probe(
                http ? HealthCheck.Type.HTTP : HealthCheck.Type.TCP,
                traffic ? HealthCheck.TRAFFIC_PORT : port,
                http ? p.path("requestPath").asText() : "",
                Duration.ofSeconds(p.path("intervalInSeconds").asInt())));
      }
      if (probes.size() != 1) {
        throw new AssertionError("rules probe differently: " + probes);
      }
      return probes.iterator().next();
    }

    List<JsonNode> securityRules(LoadBalancerRef ref) {
      List<JsonNode> out = new ArrayList<>();
      for (JsonNode nsg : fake.all("networkSecurityGroups")) {
        for (JsonNode r : nsg.path("properties").path("securityRules")) {
          if (mine(r, ref)) {
            out.add(r);
          }
        }
      }
      return out;
    }

    @Override
    public Set<String> sourceRanges(LoadBalancerRef ref) {
      Set<String> out = new HashSet<>();
      securityRules(ref)
          .forEach(
              r ->
                  r.path("properties")
                      .path("sourceAddressPrefixes")
                      .forEach(x -> out.add(x.asText())));
      return out;
    }

    @Override
    public Scheme scheme(LoadBalancerRef ref) {
      return parts("frontendIPConfigurations", ref).get(0).path("properties").has("subnet")
          ? Scheme.INTERNAL
          : Scheme.EXTERNAL;
    }

    List<JsonNode> publicIps(LoadBalancerRef ref) {
      return fake.all("publicIPAddresses").stream()
          .filter(p -> ref.uid().equals(p.path("tags").path(AzurePublicIps.TAG_UID).asText()))
          .toList();
    }

    @Override
    public int ownedResources(LoadBalancerRef ref) {
      return parts("frontendIPConfigurations", ref).size()
          + parts("loadBalancingRules", ref).size()
          + parts("probes", ref).size()
          + securityRules(ref).size()
          + publicIps(ref).size();
    }
  }
}
