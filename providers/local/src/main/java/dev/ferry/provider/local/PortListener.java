package dev.ferry.provider.local;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Listener;
import java.io.IOException;
import java.net.InetAddress;
import java.util.Optional;
import java.util.Set;

/** A bound front-end port of a local load balancer. */
sealed interface PortListener extends AutoCloseable permits TcpListener, UdpListener {

  Listener spec();

  @Override
  void close();

  /** What a listener needs from its load balancer. */
  interface Balancer {
    /** Whether the source ranges let {@code client} in. */
    boolean admits(InetAddress client);

    /** A healthy backend for {@code client} not in {@code tried}. */
    Optional<Backend> pick(InetAddress client, Set<String> tried);

    /** The load balancer's own address (UDP flows leave from it). */
    InetAddress address();
  }

  static PortListener open(
      InetAddress address, Listener spec, Balancer balancer, LocalSettings settings)
      throws IOException {
    return switch (spec.protocol()) {
      case TCP -> new TcpListener(address, spec, balancer, settings);
      case UDP -> new UdpListener(address, spec, balancer, settings);
      case SCTP -> throw new IOException("SCTP is not supported by the local provider");
    };
  }
}
