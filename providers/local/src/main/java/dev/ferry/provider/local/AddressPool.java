package dev.ferry.provider.local;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Hands out load-balancer addresses from a block. The first pick for a Service is derived from its
 * UID, so a restarted process tends to give each Service the address it had; collisions probe on.
 */
final class AddressPool {

  private final Cidr block;
  private final Map<InetAddress, String> holders = new HashMap<>();

  AddressPool(Cidr block) {
    if (block.size() < 4) {
      throw new IllegalArgumentException("address pool " + block + " is too small");
    }
    this.block = block;
  }

  Cidr block() {
    return block;
  }

  /** Takes {@code requested} for {@code owner}, or an address derived from the owner. */
  synchronized InetAddress take(String owner, Optional<InetAddress> requested) {
    if (requested.isPresent()) {
      InetAddress want = requested.get();
      String holder = holders.get(want);
      if (!block.contains(want) || (holder != null && !holder.equals(owner))) {
        throw new IllegalArgumentException(want.getHostAddress());
      }
      holders.put(want, owner);
      return want;
    }
    long usable = Math.min(block.size() - 2, 1 << 20); // skip the block's first and last address
    long start = Math.floorMod(owner.hashCode(), usable);
    for (long i = 0; i < usable; i++) {
      InetAddress candidate = block.address(1 + (start + i) % usable);
      String holder = holders.putIfAbsent(candidate, owner);
      if (holder == null || holder.equals(owner)) {
        return candidate;
      }
    }
    throw new IllegalStateException("address pool " + block + " is exhausted");
  }

  synchronized void release(InetAddress address, String owner) {
    holders.remove(address, owner);
  }
}
