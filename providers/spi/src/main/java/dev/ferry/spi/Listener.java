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
}
