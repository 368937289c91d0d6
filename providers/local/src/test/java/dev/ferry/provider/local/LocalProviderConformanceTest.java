package dev.ferry.provider.local;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.Scheme;
import dev.ferry.tck.CloudView;
import dev.ferry.tck.ProviderConformanceKit;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The local provider against the conformance kit; its "cloud" is the JVM's LocalCloud, seen through
 * its balancers (what is bound and configured), and its changes are counted through the cloud's
 * change hook.
 */
class LocalProviderConformanceTest extends ProviderConformanceKit {

  private static final String POOL = "127.0.101.0/24";
  private static final String IPV6_POOL = "fdfe:44:101::/120";
  private final LocalCloud cloud =
      LocalCloud.shared(Cidr.parse(POOL), java.util.Optional.of(Cidr.parse(IPV6_POOL)));

  @Override
  protected LoadBalancerProvider newProvider() {
    cloud.onChange(cloudCalls::mutated);
    return new LocalProviderFactory()
        .create(
            ProviderContext.builder(clusterName())
                .settings(Map.of(LocalSettings.POOL, POOL, LocalSettings.IPV6_POOL, IPV6_POOL))
                .build());
  }

  @Override
  protected CloudView cloud() {
    return new CloudView() {
      @Override
      public String handMade(String name, int port, int nodePort, List<Backend> backends) {
        String nodes = String.join("+", backends.stream().map(Backend::address).toList());
        // outside the pool, as another controller's address would be
        String address = "127.0.102." + (1 + Math.floorMod(name.hashCode(), 250));
        cloud.existing(
            ExistingBalancers.parse(
                name + "=" + address + ":" + port + "->" + nodePort + "@" + nodes),
            LocalSettings.from(
                ProviderContext.builder(clusterName())
                    .settings(Map.of(LocalSettings.POOL, POOL))
                    .build()));
        return name;
      }

      @Override
      public int loadBalancerCount(LoadBalancerRef ref) {
        return cloud.get(ref).isPresent() ? 1 : 0;
      }

      @Override
      public Set<String> registeredBackends(LoadBalancerRef ref) {
        Set<String> names = new HashSet<>();
        cloud.get(ref).ifPresent(b -> b.backends().forEach(x -> names.add(x.nodeName())));
        return names;
      }

      @Override
      public Set<String> listeners(LoadBalancerRef ref) {
        return cloud.get(ref).map(LocalBalancer::boundListeners).orElse(Set.of()).stream()
            .map((Listener l) -> l.protocol() + "/" + l.port())
            .collect(Collectors.toSet());
      }

      @Override
      public Probe healthProbe(LoadBalancerRef ref) {
        HealthCheck hc = cloud.get(ref).orElseThrow().plan().healthCheck();
        return new Probe(hc.protocol(), hc.port(), hc.path(), hc.interval());
      }

      @Override
      public Set<String> sourceRanges(LoadBalancerRef ref) {
        return Set.copyOf(cloud.get(ref).orElseThrow().plan().sourceRanges());
      }

      @Override
      public Scheme scheme(LoadBalancerRef ref) {
        return cloud.get(ref).orElseThrow().plan().scheme();
      }

      @Override
      public int ownedResources(LoadBalancerRef ref) {
        return loadBalancerCount(ref);
      }

      @Override
      public Set<String> registeredBackends(LoadBalancerRef ref, IpFamily family) {
        Set<String> names = new HashSet<>();
        frontend(ref, family).backends().forEach(x -> names.add(x.nodeName()));
        return names;
      }

      @Override
      public Set<String> sourceRanges(LoadBalancerRef ref, IpFamily family) {
        return Set.copyOf(frontend(ref, family).plan().sourceRanges());
      }
    };
  }

  private LocalBalancer frontend(LoadBalancerRef ref, IpFamily family) {
    return cloud.frontends(ref).stream()
        .filter(f -> LocalCloud.family(f.address()) == family)
        .findFirst()
        .orElseThrow();
  }

  @Override
  protected List<Backend> dualStackBackends(int count) {
    return IntStream.rangeClosed(1, count)
        .mapToObj(
            i ->
                new Backend(
                    "node-" + i,
                    "local://node-" + i,
                    "127.0.102." + i,
                    "z1",
                    List.of("127.0.102." + i, "fdfe:44:102::" + i)))
        .toList();
  }

  @Override
  protected List<Backend> backends(int count) {
    return IntStream.rangeClosed(1, count)
        .mapToObj(i -> new Backend("node-" + i, "local://node-" + i, "127.0.102." + i, "z1"))
        .toList();
  }
}
