package dev.ferry.tck;

import dev.ferry.spi.LoadBalancerRef;
import java.util.Set;

/**
 * The cloud as the conformance kit sees it, independent of the provider under test: each provider's
 * test implements it with the cloud's own API (or the emulator's), never through the provider.
 */
public interface CloudView {

  /** How many load balancers exist for {@code ref} (0 or 1 for a correct provider). */
  int loadBalancerCount(LoadBalancerRef ref);

  /** The node names (or provider IDs, as the provider registers them) behind {@code ref}. */
  Set<String> registeredBackends(LoadBalancerRef ref);
}
