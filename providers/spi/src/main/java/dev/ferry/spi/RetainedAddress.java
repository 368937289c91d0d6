package dev.ferry.spi;

/**
 * An address a provider keeps for a cluster after its Service went ({@link ReclaimPolicy#Retain}).
 * Since 1.4.
 *
 * @param id the provider's name for it, which {@link LoadBalancerProvider#deleteRetained} takes (an
 *     address resource's name, a public IP's resource id)
 * @param address the IP (or hostname) clients used
 * @param namespace the namespace of the Service it was retained from
 * @param name the name of that Service
 * @param inUse whether a Service serves on it now (named in {@code spec.loadBalancerIP}, or claimed
 *     with {@code ferry.dev/claim-retained}); it stays retained when that Service goes
 */
public record RetainedAddress(
    String id, String address, String namespace, String name, boolean inUse) {

  public RetainedAddress {
    Names.requireNonBlank(id, "id");
    Names.requireNonBlank(address, "address");
    Names.requireNonBlank(namespace, "namespace");
    Names.requireNonBlank(name, "name");
  }

  /** {@code namespace/name} of the Service it was retained from. */
  public String serviceKey() {
    return namespace + "/" + name;
  }
}
