package dev.ferry.provider.local;

import dev.ferry.spi.Backend;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderContext;
import dev.ferry.tck.CloudView;
import dev.ferry.tck.ProviderConformanceKit;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/** The local provider against the conformance kit; its "cloud" is the JVM's LocalCloud. */
class LocalProviderConformanceTest extends ProviderConformanceKit {

  private static final String POOL = "127.0.101.0/24";

  @Override
  protected LoadBalancerProvider newProvider() {
    return new LocalProviderFactory()
        .create(new ProviderContext(clusterName(), Map.of(LocalSettings.POOL, POOL)));
  }

  @Override
  protected CloudView cloud() {
    LocalCloud cloud = LocalCloud.shared(Cidr.parse(POOL));
    return new CloudView() {
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
    };
  }

  @Override
  protected List<Backend> backends(int count) {
    return IntStream.rangeClosed(1, count)
        .mapToObj(i -> new Backend("node-" + i, "local://node-" + i, "127.0.102." + i, "z1"))
        .toList();
  }
}
