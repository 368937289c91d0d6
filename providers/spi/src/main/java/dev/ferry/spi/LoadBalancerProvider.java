package dev.ferry.spi;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A cloud adapter that makes, updates and deletes external load balancers. See the package
 * documentation for the rules every method follows: idempotent, inputs read-only, crash-safe,
 * deleting the absent succeeds, and nothing unowned is touched.
 */
public interface LoadBalancerProvider extends AutoCloseable {

  /** What this provider can build; the controller rejects plans outside it before any call. */
  Capabilities capabilities();

  /** The status of the load balancer for {@code ref}, or empty when none exists. */
  Optional<LoadBalancerStatus> find(LoadBalancerRef ref) throws ProviderException;

  /**
   * Creates the load balancer, or brings an existing one in line with {@code plan}: listeners,
   * backends, health check, source ranges. Returns the status to publish on the Service.
   *
   * @throws ProviderException.InvalidPlan if the plan is outside {@link #capabilities()} or the
   *     cloud rejects it for a reason the user must fix; nothing was changed in that case
   */
  LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException;

  /**
   * Makes the backend set of an existing load balancer exactly {@code backends}, changing only the
   * difference. Connections to backends that stay are not disturbed.
   *
   * @throws ProviderException.Transient if no load balancer exists for {@code ref}
   */
  void updateBackends(LoadBalancerRef ref, List<Backend> backends) throws ProviderException;

  /**
   * The periodic check (drift repair): which of {@code plans}' load balancers are exactly as their
   * plans say, found with read-only calls, batched where the cloud allows (e.g. one describe for
   * many load balancers). Answers the status of each one in step; a plan left out is drifted,
   * missing or unknown, and the controller calls {@link #ensure} for it. Never changes anything,
   * and may run while other calls for the same Services are in flight (it only reads).
   *
   * <p>The default knows nothing (every plan is ensured, which is correct if each {@code ensure}
   * reads first and changes only differences).
   */
  default Map<LoadBalancerRef, LoadBalancerStatus> inStep(List<LoadBalancerPlan> plans)
      throws ProviderException {
    return Map.of();
  }

  /** Deletes everything this provider made for {@code ref}; succeeds when nothing is there. */
  void ensureDeleted(LoadBalancerRef ref) throws ProviderException;

  /**
   * Deletes everything made for {@code ref} except its address, which is marked as retained by
   * {@code ref}'s cluster for its namespace and name (where the cloud ties the address to the load
   * balancer, the load balancer stays, emptied). The mark goes on before anything is deleted, so a
   * crash leaves either the Service's load balancer or a retained address. Afterwards {@link
   * #listOwned} no longer lists {@code ref} and {@link #listRetained} lists the address.
   * Idempotent; succeeds when nothing is there, and deletes like {@link #ensureDeleted} what has no
   * address of Ferry's (a Service on the user's own or an already retained address). An adopted
   * load balancer ({@link LoadBalancerPlan#adopt()}) is given back as it is: Ferry's marks come off
   * and it serves on. Only called when {@link Capabilities#retain()}. Since 1.4.
   */
  default void ensureRetained(LoadBalancerRef ref) throws ProviderException {
    throw new ProviderException.InvalidPlan(
        "metadata.annotations[ferry.dev/reclaim-policy]",
        "this provider cannot keep an address after its Service");
  }

  /** The addresses retained for {@code clusterName}; see {@link #ensureRetained}. Since 1.4. */
  default List<RetainedAddress> listRetained(String clusterName) throws ProviderException {
    return List.of();
  }

  /**
   * Deletes the address {@code id} retained for {@code clusterName}; succeeds when it is gone.
   *
   * @throws ProviderException.InvalidPlan when it is not an address retained for that cluster, or a
   *     Service serves on it now
   */
  default void deleteRetained(String clusterName, String id) throws ProviderException {
    throw new ProviderException.InvalidPlan("id", "this provider retains no addresses");
  }

  /**
   * What adopting the existing load balancer {@code id} for {@code plan}'s Service would do: its
   * address and the changes {@code ensure} would make. Read-only. Only called when {@link
   * Capabilities#adopt()}. Since 1.4.
   *
   * @throws ProviderException.InvalidPlan naming {@code metadata.annotations[ferry.dev/adopt]} when
   *     {@code id} names no load balancer, or one that Ferry serves for another Service or cluster
   */
  default AdoptionPreview previewAdoption(LoadBalancerPlan plan, String id)
      throws ProviderException {
    throw new ProviderException.InvalidPlan(
        "metadata.annotations[ferry.dev/adopt]",
        "this provider cannot take over an existing load balancer");
  }

  /** The load balancers this provider owns for {@code clusterName}, and nothing else. */
  List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException;

  /** Releases local resources (clients, sockets). Cloud resources stay as they are. */
  @Override
  default void close() {}
}
