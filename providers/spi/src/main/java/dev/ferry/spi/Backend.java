package dev.ferry.spi;

/**
 * A node that receives traffic on the NodePorts.
 *
 * @param nodeName the Node's name
 * @param providerId the Node's {@code spec.providerID}, empty when the node has none
 * @param address the node's internal address
 * @param zone the node's {@code topology.kubernetes.io/zone}, empty when unknown
 */
public record Backend(String nodeName, String providerId, String address, String zone) {

  public Backend {
    Names.requireNonBlank(nodeName, "nodeName");
    providerId = providerId == null ? "" : providerId;
    address = address == null ? "" : address;
    zone = zone == null ? "" : zone;
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
            && zone.equals(b.zone);
  }

  @Override
  public int hashCode() {
    return ((nodeName.hashCode() * 31 + providerId.hashCode()) * 31 + address.hashCode()) * 31
        + zone.hashCode();
  }
}
