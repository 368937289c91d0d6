package dev.ferry.spi;

/**
 * One front-end port of the load balancer and the NodePort it forwards to.
 *
 * @param name the Service port's name (may be empty for a single unnamed port)
 */
public record Listener(String name, Protocol protocol, int port, int nodePort) {

  public Listener {
    name = name == null ? "" : name;
    if (protocol == null) {
      throw new IllegalArgumentException("protocol must be set");
    }
    requirePort(port, "port");
    requirePort(nodePort, "nodePort");
  }

  static void requirePort(int port, String what) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(what + " " + port + " is outside 1-65535");
    }
  }

  // written out: see Backend.equals
  @Override
  public boolean equals(Object o) {
    return o == this
        || o instanceof Listener l
            && port == l.port
            && nodePort == l.nodePort
            && protocol == l.protocol
            && name.equals(l.name);
  }

  @Override
  public int hashCode() {
    return ((name.hashCode() * 31 + protocol.hashCode()) * 31 + port) * 31 + nodePort;
  }
}
