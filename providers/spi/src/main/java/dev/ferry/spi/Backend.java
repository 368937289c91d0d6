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
}
