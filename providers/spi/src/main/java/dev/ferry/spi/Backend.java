package dev.ferry.spi;

/**
 * A node that receives traffic on the NodePorts.
 *
 * @param nodeName the Node's name
 * @param providerId the Node's {@code spec.providerID}, empty when the node has none
 * @param address the node's internal address
 * @param zone the node's {@code topology.kubernetes.io/zone}, empty when unknown
 * @param addresses every internal address of the node, IPv4 and IPv6, in the Node's order; {@code
 *     address} is its IPv4 one when it has one. Since 1.3.
 */
public record Backend(
    String nodeName,
    String providerId,
    String address,
    String zone,
    java.util.List<String> addresses) {

  public Backend {
    Names.requireNonBlank(nodeName, "nodeName");
    providerId = providerId == null ? "" : providerId;
    address = address == null ? "" : address;
    zone = zone == null ? "" : zone;
    addresses =
        addresses == null || addresses.isEmpty()
            ? (address.isEmpty() ? java.util.List.of() : java.util.List.of(address))
            : java.util.List.copyOf(addresses);
  }

  /** A node with one internal address (as in 1.2 and before). */
  public Backend(String nodeName, String providerId, String address, String zone) {
    this(nodeName, providerId, address, zone, null);
  }

  /**
   * The node's internal address of {@code family}, empty when it has none: such a node is no
   * backend of that family's frontend. Since 1.3.
   */
  public String address(IpFamily family) {
    for (String a : addresses) {
      if (IpFamily.of(a) == family) {
        return a;
      }
    }
    return "";
  }

  // Written out, here and in the other records a plan holds: a record's generated equals goes
  // through method handles that the client compiler (the image's only one) does not inline, and
  // the controller compares plans of every eligible node on each node change.
  @Override
  public boolean equals(Object o) {
    return o == this
        || o instanceof Backend b
            && nodeName.equals(b.nodeName)
            && providerId.equals(b.providerId)
            && address.equals(b.address)
            && zone.equals(b.zone)
            && addresses.equals(b.addresses);
  }

  @Override
  public int hashCode() {
    return (((nodeName.hashCode() * 31 + providerId.hashCode()) * 31 + address.hashCode()) * 31
                + zone.hashCode())
            * 31
        + addresses.hashCode();
  }
}
