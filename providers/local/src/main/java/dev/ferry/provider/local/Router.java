package dev.ferry.provider.local;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.Set;

/** Decides, for a proxy, who may connect and where a new connection or flow goes. */
public interface Router {

  /** Whether {@code client} may connect at all. */
  boolean admits(InetAddress client);

  /**
   * Where a new connection from {@code client} goes, other than the targets already {@code tried}
   * for it; empty when no target is left.
   */
  Optional<InetSocketAddress> route(InetAddress client, Set<InetSocketAddress> tried);
}
