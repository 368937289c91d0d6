package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Finds load balancers the provider owns for a cluster (by its tags: {@code listOwned}) that no
 * Service wants any more: no Service with that UID exists, or it is neither {@code type:
 * LoadBalancer} nor carries Ferry's finalizer (then its own cleanup is under way). Only what the
 * provider reports as owned for this cluster is ever considered.
 */
public final class OrphanSweep {

  /** One load balancer and whether a Service still wants it. */
  public record Found(LoadBalancerRef ref, boolean orphan) {}

  private OrphanSweep() {}

  /**
   * What {@code ferry gc} reports: the provider's load balancers for {@code cluster}, each against
   * the Services of the API server that {@code kubeconfig} names (or the usual places, as for
   * {@code ferry run}).
   */
  public static List<Found> scan(Path kubeconfig, LoadBalancerProvider provider, String cluster)
      throws ProviderException {
    try (KubernetesClient client =
        KubeClients.build(ApiServerConnection.find(kubeconfig).requireReachable().config())) {
      return find(provider, cluster, byUid(client.services().inAnyNamespace().list().getItems()));
    }
  }

  /**
   * @param servicesByUid the Service with a UID, or null
   */
  static List<Found> find(
      LoadBalancerProvider provider, String cluster, Function<String, Service> servicesByUid)
      throws ProviderException {
    List<Found> found = new ArrayList<>();
    for (LoadBalancerRef ref : provider.listOwned(cluster)) {
      Service s = servicesByUid.apply(ref.uid());
      boolean wanted =
          s != null
              && (ServiceClassifier.hasFinalizer(s)
                  || (s.getSpec() != null && "LoadBalancer".equals(s.getSpec().getType())));
      found.add(new Found(ref, !wanted));
    }
    return found;
  }

  /** The UIDs of {@code services}, for {@link #find}. */
  static Function<String, Service> byUid(List<Service> services) {
    Map<String, Service> m = new java.util.HashMap<>();
    services.forEach(s -> m.put(s.getMetadata().getUid(), s));
    return m::get;
  }
}
